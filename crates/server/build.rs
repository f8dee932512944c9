//! Compiles the C shim in `csrc/`: INCRBYFLOAT's `long double` arithmetic (see the file's
//! header for why it is in C).

fn main() {
    println!("cargo:rerun-if-changed=csrc/long_double.c");
    cc::Build::new()
        .file("csrc/long_double.c")
        .warnings(true)
        .extra_warnings(true)
        .compile("vireo_long_double");
}
