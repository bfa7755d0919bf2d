"""Django's Redis cache, keeping one redis-py client per connection pool.

Django makes a new redis-py client for every cache call, and since redis-py 6
each one copies a table of about 170 response callbacks on creation (0.2 ms
here, as much as the round trip itself). A client holds no connection of its
own (it borrows from the pool) and is safe to share between threads, so one
per pool does.
"""

import redis
from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, redis.Redis] = {}

    def get_client(self, key: str | None = None, *, write: bool = False) -> redis.Redis:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
