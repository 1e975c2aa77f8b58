"""The shared cache of production (Redis): it holds rate-limit counters and nothing that must survive, so Redis being
down must never fail a request. django-redis's IGNORE_EXCEPTIONS turns every read into a miss and drops every write;
this backend also lets `add` succeed, because allauth's rate limits take a lock with `cache.add` and would otherwise
wait a second and answer 429 to every log-in while Redis is down."""

from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted


class SharedCache(RedisCache):
    def add(self, *args, **kwargs):
        try:
            return self.client.add(*args, **kwargs)
        except ConnectionInterrupted as error:
            if not self._ignore_exceptions:
                raise error.__cause__ from None
            if self._log_ignored_exceptions:
                self.logger.warning("Redis unreachable: cache.add succeeds without it (%s)", error.__cause__)
            return True  # fail open: a lock nobody can hold while Redis is down
