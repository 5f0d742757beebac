//! Embeds the blueprints (templates for non-HCL artifacts and starter specs) and the example
//! specs in the binary, so `fleetform` works from any folder without its source tree.
fn main() {
    minijinja_embed::embed_templates!("blueprints", &[".j2"], "blueprints");
    minijinja_embed::embed_templates!("examples", &[".yaml", ".csv"], "examples");
}
