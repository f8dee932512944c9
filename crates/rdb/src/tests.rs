//! Payloads compared with Redis 7.0's DUMP, round trips, and corrupt input.

use super::*;
use proptest::prelude::*;
use vireo_store::hash::{Hash, Limits as HashLimits};
use vireo_store::list::{End, List};
use vireo_store::set::Set;
use vireo_store::zset::ZSet;

const OPTIONS: DumpOptions = DumpOptions {
    compress: true,
    now_ms: 1_000_000,
};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn config() -> LoadConfig {
    LoadConfig::default()
}

fn list_of(items: &[&[u8]]) -> Value {
    let mut l = List::new();
    for i in items {
        l.reserve_for(&config().list, i.len(), 1);
        l.push(End::Tail, i);
    }
    Value::list(l)
}

fn set_of(items: &[&[u8]]) -> Value {
    let limits = config().set;
    let mut s = Set::for_members(items[0], items.len(), &limits);
    for i in items {
        s.add(i, &limits);
    }
    Value::set(s)
}

fn zset_of(items: &[(&[u8], f64)]) -> Value {
    let limits = config().zset;
    let mut z = ZSet::new();
    for (m, s) in items {
        z.insert(m, *s, limits);
    }
    Value::zset(z)
}

fn hash_of(items: &[(&[u8], &[u8])]) -> Value {
    let mut h = Hash::new();
    for (f, v) in items {
        h.set(f, v, HashLimits::default());
    }
    Value::hash(h)
}

/// DUMP payloads taken from redis-server 7.0 for the same values.
#[test]
fn dumps_match_redis_7_0() {
    let a100 = [b'a'; 100];
    let cases: Vec<(Value, &str)> = vec![
        (Value::string(b"bar"), "00036261720a00e6be4960ee66fd17"),
        (Value::string(b"12"), "00c00c0a003c2af8515c04bcd5"),
        (
            Value::string(b"123456789012"),
            "000c3132333435363738393031320a00911001b1d116e7ac",
        ),
        (
            Value::string(&a100),
            "00c3094064016161e057000161610a00e8a3b507b06df271",
        ),
        (
            list_of(&[b"a", b"b", b"1"]),
            "1201020f0f00000003008161028162020101ff0a00e01bab4a47ce5922",
        ),
        (
            set_of(&[b"1", b"2", b"3"]),
            "0b0e02000000030000000100020003000a00a5025ce26d6e4d1b",
        ),
        (
            zset_of(&[(b"a", 1.0), (b"b", 2.5)]),
            "1114140000000400816102010181620283322e3504ff0a00d44c6ea4f644d9d7",
        ),
        (
            hash_of(&[(b"f", b"v"), (b"n", b"7")]),
            "1012120000000400816602817602816e020701ff0a00b82adea8407ffaa8",
        ),
    ];
    for (value, expected) in cases {
        let payload = dump(&value, OPTIONS);
        assert_eq!(payload, hex(expected), "{value:?}");
        let back = restore(&payload, &config()).unwrap();
        assert_eq!(dump(&back, OPTIONS), payload);
        assert_eq!(back.encoding(), value.encoding());
    }
}

#[test]
fn serialized_length_leaves_out_the_type_byte() {
    assert_eq!(serialized_length(&Value::string(b"bar"), OPTIONS), 4);
    assert_eq!(serialized_length(&Value::string(b"1000"), OPTIONS), 3);
    assert_eq!(serialized_length(&Value::string(&[b'x'; 64]), OPTIONS), 13);
}

#[test]
fn footer_is_checked() {
    let mut payload = dump(&Value::string(b"bar"), OPTIONS);
    assert_eq!(
        restore(&payload[..9], &config()).err(),
        Some(PayloadError::VersionOrChecksum)
    );
    let last = payload.len() - 1;
    payload[last] ^= 1;
    assert_eq!(
        restore(&payload, &config()).err(),
        Some(PayloadError::VersionOrChecksum)
    );
    // A newer version is refused even with a right checksum.
    let mut body = vec![0, 3, b'b', b'a', b'r'];
    body.extend_from_slice(&13u16.to_le_bytes());
    let crc = CRC64.checksum(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(
        restore(&body, &config()).err(),
        Some(PayloadError::VersionOrChecksum)
    );
}

/// Wraps an object in a payload footer.
fn payload_of(object: &[u8], version: u16) -> Vec<u8> {
    let mut out = object.to_vec();
    out.extend_from_slice(&version.to_le_bytes());
    let crc = CRC64.checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

#[test]
fn empty_and_unknown_objects_are_bad_data() {
    for object in [
        &[types::SET, 0][..],
        &[types::LIST_QUICKLIST_2, 0],
        &[types::HASH, 0],
        &[15, 0],
        &[types::STRING, 0xC4],
        &[types::SET, 2, 1, b'a', 1, b'a'],
    ] {
        assert_eq!(
            restore(&payload_of(object, 10), &config()).err(),
            Some(PayloadError::BadData),
            "{object:?}"
        );
    }
}

#[test]
fn old_types_load() {
    // RDB_TYPE_LIST: a, 1.
    let v = restore(
        &payload_of(&[types::LIST, 2, 1, b'a', 0xC0, 1], 9),
        &config(),
    )
    .unwrap();
    assert_eq!(v.encoding(), "listpack");
    // RDB_TYPE_ZSET with text scores.
    let v = restore(
        &payload_of(
            &[types::ZSET, 2, 1, b'a', 3, b'1', b'.', b'5', 1, b'b', 254],
            9,
        ),
        &config(),
    )
    .unwrap();
    let Value::ZSet { z, .. } = &v else { panic!() };
    assert_eq!(z.score(b"a"), Some(1.5));
    assert_eq!(z.score(b"b"), Some(f64::INFINITY));
}

#[test]
fn hash_field_ttls_travel_as_redis_7_4_metadata() {
    let mut h = Hash::new();
    h.set(b"a", b"1", HashLimits::default());
    h.set(b"b", b"2", HashLimits::default());
    h.start_field_expiry();
    h.set_field_expiry(b"a", 5_000_000);
    let value = Value::hash(h);
    let payload = dump(&value, OPTIONS);
    assert_eq!(payload[0], types::HASH_METADATA);
    assert_eq!(payload[payload.len() - 10], 12);
    let back = restore(&payload, &config()).unwrap();
    let Value::Hash { h, .. } = &back else {
        panic!()
    };
    assert_eq!(
        h.field_expiry(b"a", OPTIONS.now_ms),
        vireo_store::hash::FieldExpiry::At(5_000_000)
    );
    assert_eq!(
        h.field_expiry(b"b", OPTIONS.now_ms),
        vireo_store::hash::FieldExpiry::Persistent
    );
}

#[test]
fn truncated_or_flipped_objects_never_panic() {
    let big: Vec<Vec<u8>> = (0..300)
        .map(|i| format!("member-{i}").into_bytes())
        .collect();
    let refs: Vec<&[u8]> = big.iter().map(|v| v.as_slice()).collect();
    let values = vec![
        list_of(&refs),
        set_of(&refs),
        set_of(&[b"1", b"2"]),
        zset_of(&[(b"a", 1.0), (b"b", 2.0)]),
        hash_of(&[(b"f", b"v")]),
        Value::string(&[b'z'; 300]),
    ];
    for value in values {
        let payload = dump(&value, OPTIONS);
        let object = &payload[..payload.len() - 10];
        for cut in 0..object.len() {
            let _ = load_object(&object[..cut], &config());
        }
        for i in 0..object.len().min(400) {
            let mut bad = object.to_vec();
            bad[i] ^= 0x5A;
            let _ = load_object(&bad, &config());
        }
    }
}

/// A value and what it should read back as.
#[derive(Debug, Clone)]
enum Model {
    Str(Vec<u8>),
    List(Vec<Vec<u8>>),
    Set(Vec<Vec<u8>>),
    ZSet(Vec<(Vec<u8>, f64)>),
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
}

fn element() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (-100_000i64..100_000).prop_map(|n| n.to_string().into_bytes()),
        proptest::collection::vec(any::<u8>(), 0..12),
        proptest::collection::vec(prop_oneof![Just(b'x'), any::<u8>()], 0..120),
    ]
}

fn model() -> impl Strategy<Value = Model> {
    let many = |n| proptest::collection::vec(element(), 1..n);
    prop_oneof![
        element().prop_map(Model::Str),
        many(400).prop_map(Model::List),
        many(300).prop_map(|mut v| {
            v.sort();
            v.dedup();
            Model::Set(v)
        }),
        proptest::collection::btree_map(element(), -1e6f64..1e6, 1..200)
            .prop_map(|m| Model::ZSet(m.into_iter().collect())),
        proptest::collection::btree_map(element(), element(), 1..600)
            .prop_map(|m| Model::Hash(m.into_iter().collect())),
    ]
}

fn refs(v: &[Vec<u8>]) -> Vec<&[u8]> {
    v.iter().map(|e| e.as_slice()).collect()
}

fn build(m: &Model) -> Value {
    match m {
        Model::Str(s) => Value::string(s),
        Model::List(v) => list_of(&refs(v)),
        Model::Set(v) => set_of(&refs(v)),
        Model::ZSet(v) => {
            let items: Vec<(&[u8], f64)> = v.iter().map(|(m, s)| (m.as_slice(), *s)).collect();
            zset_of(&items)
        }
        Model::Hash(v) => {
            let items: Vec<(&[u8], &[u8])> = v
                .iter()
                .map(|(f, x)| (f.as_slice(), x.as_slice()))
                .collect();
            hash_of(&items)
        }
    }
}

/// The value's contents in a comparable form (sets and hashes sorted).
fn contents(v: &Value) -> Model {
    let mut digits = itoa::Buffer::new();
    match v {
        Value::List { l, .. } => Model::List(l.to_vec()),
        Value::Set { s, .. } => {
            let mut m: Vec<Vec<u8>> = s.iter().map(|e| e.to_vec()).collect();
            m.sort();
            Model::Set(m)
        }
        Value::ZSet { z, .. } => {
            let mut m: Vec<(Vec<u8>, f64)> = z.iter().map(|(e, s)| (e.to_vec(), s)).collect();
            m.sort_by(|a, b| a.0.cmp(&b.0));
            Model::ZSet(m)
        }
        Value::Hash { h, .. } => {
            let mut m: Vec<(Vec<u8>, Vec<u8>)> =
                h.iter(0).map(|(f, x)| (f.to_vec(), x.to_vec())).collect();
            m.sort();
            Model::Hash(m)
        }
        _ => Model::Str(v.as_bytes(&mut digits).unwrap().to_vec()),
    }
}

impl PartialEq for Model {
    fn eq(&self, other: &Model) -> bool {
        format!("{self:?}") == format!("{other:?}")
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn values_round_trip(m in model(), compress in any::<bool>()) {
        let value = build(&m);
        let options = DumpOptions { compress, ..OPTIONS };
        let payload = dump(&value, options);
        let back = restore(&payload, &config()).unwrap();
        prop_assert_eq!(back.encoding(), value.encoding());
        prop_assert_eq!(contents(&back), contents(&value));
        // The bytes are kept too, except for a hashtable's order (each table has its
        // own hash seed).
        if value.encoding() != "hashtable" {
            prop_assert_eq!(dump(&back, options), payload);
        }
    }

    #[test]
    fn arbitrary_objects_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = load_object(&bytes, &config());
    }
}

/// An object with a string blob: the type byte, the blob's length and bytes.
fn blob_object(ty: u8, prefix: &[u8], blob: &[u8]) -> Vec<u8> {
    let mut out = vec![ty];
    out.extend_from_slice(prefix);
    assert!(blob.len() < 64);
    out.push(blob.len() as u8);
    out.extend_from_slice(blob);
    out
}

#[test]
fn redis_7_4_listpack_ex_hashes_load() {
    let mut lp = vireo_store::listpack::Listpack::new();
    for item in [&b"f"[..], b"v", b"5000000", b"g", b"w", b"0"] {
        lp.push_back(item);
    }
    let object = blob_object(
        types::HASH_LISTPACK_EX,
        &5_000_000i64.to_le_bytes(),
        lp.as_bytes(),
    );
    let v = restore(&payload_of(&object, 12), &config()).unwrap();
    let Value::Hash { h, .. } = &v else { panic!() };
    use vireo_store::hash::FieldExpiry;
    assert_eq!(h.field_expiry(b"f", 0), FieldExpiry::At(5_000_000));
    assert_eq!(h.field_expiry(b"g", 0), FieldExpiry::Persistent);
    // A TTL out of Redis's 48-bit range is refused.
    let mut lp = vireo_store::listpack::Listpack::new();
    for item in [&b"f"[..], b"v", b"-5"] {
        lp.push_back(item);
    }
    let object = blob_object(types::HASH_LISTPACK_EX, &0i64.to_le_bytes(), lp.as_bytes());
    assert_eq!(load_object(&object, &config()).map(|_| ()), None);
}

#[test]
fn redis_2_4_zipmap_hashes_load() {
    let zipmap = [
        2, 3, b'f', b'o', b'o', 3, 1, b'b', b'a', b'r', 0, 1, b'x', 1, 0, b'y', 0xFF,
    ];
    let v = load_object(&blob_object(types::HASH_ZIPMAP, &[], &zipmap), &config()).unwrap();
    let Value::Hash { h, .. } = &v else { panic!() };
    assert_eq!(h.encoding(), "listpack");
    assert_eq!(h.get(b"foo", 0).map(|v| v.to_vec()), Some(b"bar".to_vec()));
    assert_eq!(h.get(b"x", 0).map(|v| v.to_vec()), Some(b"y".to_vec()));
}

#[test]
fn redis_6_ziplist_lists_load() {
    // RPUSH l a 1 as Redis 6 writes its ziplist: header, entries with prevlen, 0xFF.
    let zl = [16, 0, 0, 0, 13, 0, 0, 0, 2, 0, 0, 0x01, b'a', 3, 0xF2, 0xFF];
    for ty in [types::LIST_ZIPLIST, types::HASH_ZIPLIST] {
        let v = load_object(&blob_object(ty, &[], &zl), &config()).unwrap();
        match v {
            Value::List { l, .. } => assert_eq!(l.to_vec(), vec![b"a".to_vec(), b"1".to_vec()]),
            Value::Hash { h, .. } => {
                assert_eq!(h.get(b"a", 0).map(|v| v.to_vec()), Some(b"1".to_vec()))
            }
            other => panic!("{other:?}"),
        }
    }
    // RDB_TYPE_LIST_QUICKLIST: nodes of ziplists.
    let mut object = vec![types::LIST_QUICKLIST, 2];
    for _ in 0..2 {
        object.push(zl.len() as u8);
        object.extend_from_slice(&zl);
    }
    let Value::List { l, .. } = load_object(&object, &config()).unwrap() else {
        panic!()
    };
    assert_eq!(l.len(), 4);
}
