// The main navigation folds behind the Menu button on narrow screens (app.css, under html.js): the button opens and
// closes it and says so (aria-expanded); Escape closes it and gives the focus back to the button. Without this script
// the class is never set and every link stays in sight.
document.documentElement.classList.add("js");

function setMenu(button, open) {
  button.setAttribute("aria-expanded", open ? "true" : "false");
  const menu = document.getElementById(button.getAttribute("aria-controls"));
  if (menu) menu.classList.toggle("is-open", open);
}

document.addEventListener("click", (event) => {
  const button = event.target.closest(".menu-button");
  if (button) setMenu(button, button.getAttribute("aria-expanded") !== "true");
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const button = document.querySelector('.menu-button[aria-expanded="true"]');
  if (!button) return;
  setMenu(button, false);
  button.focus();
});
