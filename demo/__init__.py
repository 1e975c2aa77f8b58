"""The demo world of `make run` (`manage.py seed_demo`): organisations, people, a fleet of real makes with months of
telemetry, and sharings in every status, built through the services of every layer. It sits on top of all of them
(DESIGN §5) and needs time-machine, which only development installs (requirements-demo.txt): its history is replayed
with the clock set to each moment."""
