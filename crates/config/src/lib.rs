//! redis.conf parsing, the directive table, CONFIG GET/SET/REWRITE logic.
