//! RDB and DUMP payload codec (lengths, LZF, CRC64, listpack/intset/ziplist readers).
//! Empty until the persistence issue: the server core does not read or write RDB yet.
