//! The OTLP/HTTP (protobuf) exporter of `[log.traces]`, batched on the SDK's own thread.

use std::time::Duration;

use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};

use crate::config::TraceSettings;

/// At most this long per batch sent to the collector: a collector that does not answer delays
/// the shutdown by no more.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);

/// The exporter's client: no redirects (a collector's `Location` could send the spans over plain
/// http or to another host). Built on a thread of its own: a blocking client must not be built
/// or dropped on the async runtime.
fn collector_client() -> anyhow::Result<reqwest::blocking::Client> {
    std::thread::spawn(|| {
        reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(EXPORT_TIMEOUT)
            .build()
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the collector's HTTP client could not be built"))?
    .map_err(anyhow::Error::from)
}

pub fn tracer_provider(settings: &TraceSettings) -> anyhow::Result<SdkTracerProvider> {
    let exporter = SpanExporter::builder()
        .with_http()
        .with_http_client(collector_client()?)
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(settings.endpoint.as_str())
        .with_timeout(EXPORT_TIMEOUT)
        .build()?;
    // A trusted front proxy's decision stands (`traceparent`'s sampled flag); new traces are
    // kept at the configured ratio.
    let sampler = Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
        settings.sampling_ratio,
    )));
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(sampler)
        .with_resource(
            Resource::builder()
                .with_service_name(settings.service_name.clone())
                .build(),
        )
        .build())
}
