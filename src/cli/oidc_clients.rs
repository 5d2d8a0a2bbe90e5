//! `kepgate oidc client add`: a new client application's secret and configuration.

use clap::Subcommand;

use crate::config::Settings;

#[derive(Debug, Subcommand)]
pub enum OidcCommand {
    /// Client applications (`[oidc.clients.<id>]`).
    #[command(subcommand)]
    Client(OidcClientCommand),
}

#[derive(Debug, Subcommand)]
pub enum OidcClientCommand {
    /// Make a new client's secret and print it once, with the configuration to add (which
    /// keeps only the secret's hash).
    Add {
        /// The client id, e.g. `grafana`.
        id: String,
        /// Where the application receives the code (exact; repeat for several).
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<url::Url>,
        /// A browser or mobile app that cannot keep a secret: no secret, PKCE required.
        #[arg(long)]
        public: bool,
    },
}

pub fn oidc_client_add(
    settings: &Settings,
    id: &str,
    redirect_uris: &[url::Url],
    public: bool,
) -> anyhow::Result<()> {
    // An assertion's audience is its route's name, an ID token's its client's id.
    anyhow::ensure!(
        !settings.routes.contains_key(id),
        "a route is named {id:?}: an OpenID client needs an id no route has"
    );
    let uris: Vec<String> = redirect_uris
        .iter()
        .map(|u| format!("{:?}", u.as_str()))
        .collect();
    println!("[oidc.clients.{id}]");
    println!("redirect_uris = [{}]", uris.join(", "));
    if public {
        println!("# a public client: no secret; it must use PKCE (S256)");
        return Ok(());
    }
    let (secret, hash) =
        crate::oidc::clients::new_secret().map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    println!("secret_sha256 = \"{hash}\"");
    eprintln!();
    eprintln!("The client secret, shown this once (kepgate keeps only its hash above):");
    eprintln!("{secret}");
    Ok(())
}
