//! Generates the CRI v1 client from `proto/api.proto` with protox, a protobuf compiler written
//! in Rust, so building needs no `protoc` on the machine.

fn main() {
    println!("cargo:rerun-if-changed=proto/api.proto");
    let fds = match protox::compile(["api.proto"], ["proto"]) {
        Ok(fds) => fds,
        Err(e) => {
            eprintln!("error: compiling proto/api.proto: {e:?}");
            std::process::exit(1);
        }
    };
    if let Err(e) = tonic_prost_build::configure().build_server(false).compile_fds(fds) {
        eprintln!("error: generating the CRI client: {e}");
        std::process::exit(1);
    }
}
