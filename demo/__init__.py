"""The demo world of `make run` (`manage.py seed_demo`): organisations, people, a fleet of real makes with months of
telemetry, and sharings in every status, built through the services of every layer, so it sits on top of all of them
(DESIGN §5). Its history is replayed by handing each past moment to the services as their `now`."""
