//! `cargo run -p python-model --example explain -- MODEL FILE...`: score files and show the
//! features that drive each score (a debugging aid).

fn main() {
    let mut args = std::env::args().skip(1);
    let model = args.next().expect("usage: explain MODEL FILE...");
    let m = python_model::Model::load(std::path::Path::new(&model)).unwrap_or_else(|e| panic!("{e}"));
    println!("model {} threshold {:.4} bias {:.3}", m.version(), m.threshold(), m.bias());
    for f in args {
        let code = std::fs::read(&f).unwrap_or_else(|e| panic!("{f}: {e}"));
        let s = m.score(&code);
        println!("\n{f}: score {s:.4} {}", if m.is_malicious(s) { "MALICIOUS" } else { "benign" });
        for (name, c) in m.explain(&code, 25) {
            println!("  {c:+.3}  {name}");
        }
    }
}
