//! `cargo run -p python-model --example behaviour_weights -- MODEL`: the weight the model gives each
//! behaviour fact (a debugging aid for the trainer's recipe).
fn main() {
    let path = std::env::args().nth(1).expect("usage: behaviour_weights MODEL");
    let m = python_model::Model::load(std::path::Path::new(&path)).unwrap_or_else(|e| panic!("{e}"));
    let mut w: Vec<(f32, String)> = python_model::behaviour::all_facts().into_iter().map(|f| (m.weight(python_model::behaviour_bucket(&f)), f)).collect();
    w.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (w, f) in w.iter().filter(|(w, _)| *w != 0.0) {
        println!("{w:+.3}  {f}");
    }
}
