//! `kepgate serve` and `kepgate migrate`.

use crate::config::{Settings, SettingsSource};
use crate::database;
use crate::startup::{Application, shutdown_signal};

pub async fn migrate(settings: Settings) -> anyhow::Result<()> {
    let pool = database::connect(&settings.database).await?;
    database::migrate(&pool).await?;
    println!("migrations applied");
    Ok(())
}

pub async fn serve(settings: Settings, source: SettingsSource) -> anyhow::Result<()> {
    let app = Application::build(settings).await?.reloading_from(source);
    app.run(shutdown_signal()).await
}
