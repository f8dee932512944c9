//! RESTORE payloads: whatever the bytes, reading them must end in a value or an error,
//! never a panic or an allocation beyond what the bytes allow. Most inputs go straight to
//! the object reader (a fuzzer rarely forges a CRC-64); the rest through the whole
//! payload check.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vireo_rdb::{load_object, restore, DumpOptions, LoadConfig};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let config = LoadConfig::default();
    let value = if mode & 1 == 0 {
        load_object(bytes, &config)
    } else {
        restore(bytes, &config).ok()
    };
    // What was read must write back and read again (a hash with field TTLs may have
    // nothing left to write once its fields' times are compared with the clock).
    let has_field_ttls = matches!(&value, Some(vireo_store::Value::Hash { h, .. }) if h.has_field_ttls());
    if let (Some(value), false) = (value, has_field_ttls) {
        let options = DumpOptions { compress: mode & 2 == 0, now_ms: 0 };
        let payload = vireo_rdb::dump(&value, options);
        restore(&payload, &config).expect("a payload Vireo wrote reads back");
    }
});
