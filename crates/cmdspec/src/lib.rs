//! The command table as data, generated from the Redis 7.2 command specs.
