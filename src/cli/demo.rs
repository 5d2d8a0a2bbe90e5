//! `kepgate emulator` and `kepgate cabinet`: the demo's stand-ins, run on their own (feature
//! `demo`).

use std::process::ExitCode;

use super::exit::reader_went_away;
use crate::startup::shutdown_signal;
use crate::telemetry;

pub async fn run_emulator(args: Box<kepgate_emulator::EmulatorArgs>) -> ExitCode {
    // Traces off: nothing to shut down.
    let _logs = telemetry::init(&crate::config::LogSettings::default());
    let result = async {
        let emulator = kepgate_emulator::Emulator::build((*args).into_settings()?).await?;
        emulator.run(shutdown_signal()).await
    }
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `kepgate audit | head`: the reader stopped, which is not the command failing.
        Err(e) if reader_went_away(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kepgate emulator: {e:#}");
            ExitCode::FAILURE
        }
    }
}

pub async fn run_cabinet(args: kepgate_emulator::sample_cabinet::CabinetArgs) -> ExitCode {
    // Traces off: nothing to shut down.
    let _logs = telemetry::init(&crate::config::LogSettings::default());
    let result = async {
        kepgate_emulator::sample_cabinet::SampleCabinet::build(args)
            .await?
            .run(shutdown_signal())
            .await
    }
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `kepgate audit | head`: the reader stopped, which is not the command failing.
        Err(e) if reader_went_away(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kepgate cabinet: {e:#}");
            ExitCode::FAILURE
        }
    }
}
