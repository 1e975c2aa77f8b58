"""One date style across the product (FORMAT_MODULE_PATH): pages, e-mails, charts and timelines all show dates through
Django's named formats (`|date:"DATE_FORMAT"`, `|date:"DATETIME_FORMAT"`, `formats.date_format(...)`), and these
modules give them one look per language: "29 Nov 2026, 23:19" in English, "13 déc. 2026, 23:19" in French (French
abbreviates months with a full stop and in lower case, which Django's "N" gives). Input formats are Django's own."""
