//! The file workload (issue #5): one large file uploaded through a record create (multipart,
//! streamed from disk by the client) and downloaded back (streamed, counted, not kept), with the
//! server's RSS before and its peak during each transfer. Flat memory means the server streams:
//! its peak stays near its idle RSS however large the file.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::client::{Http, Req};
use crate::report::median;
use crate::seed;
use crate::server::{SU_EMAIL, SU_PASSWORD, Server};

pub const NAME: &str = "files";
const COLLECTION: &str = "blobs";
const BOUNDARY: &str = "oxbase-bench-boundary-7c1f";
/// A transfer slower than this fails the run.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(120);

/// Medians over rounds of one server.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub upload_mib_s: f64,
    pub download_mib_s: f64,
    /// RSS just before the transfers, MiB.
    pub rss_before_mib: f64,
    pub upload_peak_mib: f64,
    pub download_peak_mib: f64,
    pub upload_cpu_s: f64,
    pub download_cpu_s: f64,
}

/// Writes the test file once: `size_mib` MiB of a fixed, incompressible-enough pattern.
pub async fn make_file(dir: &Path, size_mib: usize) -> Result<PathBuf> {
    let path = dir.join(format!("bench-{size_mib}mib.bin"));
    let mut f = tokio::fs::File::create(&path).await?;
    let mut block = vec![0u8; 1 << 20];
    let mut x: u32 = 0x9e37_79b9;
    for _ in 0..size_mib {
        for b in block.iter_mut() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = x as u8;
        }
        f.write_all(&block).await?;
    }
    f.flush().await?;
    Ok(path)
}

/// Creates the public `blobs` collection with one file field that takes the file.
pub async fn setup(http: &Http, size_bytes: u64) -> Result<String> {
    let su = seed::token(http, "_superusers", SU_EMAIL, SU_PASSWORD)
        .await
        .context("superuser login")?;
    let body = json!({"name": COLLECTION, "type": "base", "listRule": "", "viewRule": "", "createRule": "", "deleteRule": "",
                      "fields": [{"name": "data", "type": "file", "maxSelect": 1, "maxSize": size_bytes + (1 << 20)}]});
    http.json(&Req::json(
        Method::POST,
        "/api/collections",
        Some(&su),
        &body,
    ))
    .await
    .context("creating the blobs collection")?;
    Ok(su)
}

type Body = BoxBody<Bytes, std::io::Error>;

fn client() -> Client<HttpConnector, Body> {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

/// The multipart body: a preamble, the file streamed from disk in 256 KiB reads, the closing.
async fn multipart(file: &Path) -> Result<(Body, u64)> {
    let head = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"data\"; filename=\"big.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    );
    let tail = format!("\r\n--{BOUNDARY}--\r\n");
    let size = tokio::fs::metadata(file).await?.len();
    let length = head.len() as u64 + size + tail.len() as u64;
    let reader = tokio::fs::File::open(file).await?;
    let stream = futures_util::stream::once(async move { Ok(Bytes::from(head)) })
        .chain(tokio_util::io::ReaderStream::with_capacity(
            reader,
            256 << 10,
        ))
        .chain(futures_util::stream::once(
            async move { Ok(Bytes::from(tail)) },
        ))
        .map(|chunk: std::io::Result<Bytes>| chunk.map(Frame::data));
    Ok((BoxBody::new(StreamBody::new(stream)), length))
}

/// One upload and one download on `server`: (upload s, download s, upload peak, download peak,
/// RSS before, upload CPU, download CPU).
async fn round(server: &Server, file: &Path, su: &str) -> Result<[f64; 7]> {
    let http = client();
    let size = tokio::fs::metadata(file).await?.len();
    let before = server.stats();
    server.reset_peak();
    let (body, length) = multipart(file).await?;
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!(
            "{}/api/collections/{COLLECTION}/records",
            server.url
        ))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header("content-length", length)
        .body(body)?;
    let t = Instant::now();
    let resp = tokio::time::timeout(TRANSFER_TIMEOUT, http.request(request))
        .await
        .map_err(|_| anyhow!("upload timed out"))??;
    let status = resp.status();
    let bytes = resp.into_body().collect().await?.to_bytes();
    let upload_s = t.elapsed().as_secs_f64();
    if !status.is_success() {
        bail!("upload → {status}: {}", String::from_utf8_lossy(&bytes));
    }
    let after_upload = server.stats();
    let record: serde_json::Value = serde_json::from_slice(&bytes)?;
    let (id, name) = (
        record["id"].as_str().unwrap_or(""),
        record["data"].as_str().unwrap_or(""),
    );

    server.reset_peak();
    let before_download = server.stats();
    let request = Request::builder()
        .uri(format!("{}/api/files/{COLLECTION}/{id}/{name}", server.url))
        .body(BoxBody::new(
            http_body_util::Empty::new().map_err(|never| match never {}),
        ))?;
    let t = Instant::now();
    let received = tokio::time::timeout(TRANSFER_TIMEOUT, async {
        let resp = http.request(request).await?;
        if !resp.status().is_success() {
            bail!("download → {}", resp.status());
        }
        let mut body = resp.into_body();
        let mut n = 0u64;
        while let Some(frame) = body.frame().await {
            if let Some(data) = frame?.data_ref() {
                n += data.len() as u64;
            }
        }
        Ok(n)
    })
    .await
    .map_err(|_| anyhow!("download timed out"))??;
    let download_s = t.elapsed().as_secs_f64();
    let after_download = server.stats();
    if received != size {
        bail!("downloaded {received} of {size} bytes");
    }
    // Delete it, so every round starts from the same storage.
    let api = Http::new(&server.url, 1);
    api.send(
        &Req {
            method: Method::DELETE,
            path: format!("/api/collections/{COLLECTION}/records/{id}"),
            token: Some(su.to_owned()),
            body: None,
            check: Default::default(),
        },
        TRANSFER_TIMEOUT,
    )
    .await?;
    let mib = |kib: u64| kib as f64 / 1024.0;
    Ok([
        upload_s,
        download_s,
        mib(after_upload.hwm_kib),
        mib(after_download.hwm_kib),
        mib(before.rss_kib),
        after_upload.cpu_s - before.cpu_s,
        after_download.cpu_s - before_download.cpu_s,
    ])
}

/// `rounds` upload/download rounds on one server, medians.
pub async fn measure(server: &mut Server, file: &Path, rounds: usize) -> Result<Outcome> {
    let http = Http::new(&server.url, 4);
    let size = tokio::fs::metadata(file).await?.len();
    let su = setup(&http, size).await?;
    let mut all = Vec::new();
    for r in 0..rounds.max(1) {
        server.check_alive()?;
        let v = round(server, file, &su).await?;
        eprintln!(
            "files      round {} {:<10} upload {:.0} MiB/s (peak {:.1} MiB)  download {:.0} MiB/s (peak {:.1} MiB)  idle {:.1} MiB",
            r + 1,
            server.kind.name(),
            size as f64 / 1048576.0 / v[0],
            v[2],
            size as f64 / 1048576.0 / v[1],
            v[3],
            v[4]
        );
        all.push(v);
    }
    let med = |i: usize| median(all.iter().map(|v| v[i]).collect());
    let mib = size as f64 / 1048576.0;
    Ok(Outcome {
        upload_mib_s: mib / med(0),
        download_mib_s: mib / med(1),
        upload_peak_mib: med(2),
        download_peak_mib: med(3),
        rss_before_mib: med(4),
        upload_cpu_s: med(5),
        download_cpu_s: med(6),
    })
}

/// The generated section's table.
pub fn markdown(
    size_mib: usize,
    rounds: usize,
    results: &[(&str, std::result::Result<Outcome, String>); 2],
) -> String {
    let mut out = format!(
        "Settings: one {size_mib} MiB file, {rounds} round(s) per server, medians; upload = `POST` of a record create as \
         `multipart/form-data`, streamed from disk by the client; download = `GET /api/files/...`, streamed and counted. \
         Peak = the server's VmHWM during the transfer (reset before it); growth = peak − RSS before the round.\n\n"
    );
    let ok: Vec<Option<&Outcome>> = results.iter().map(|(_, r)| r.as_ref().ok()).collect();
    for (name, r) in results {
        if let Err(e) = r {
            out.push_str(&format!("**{name} FAILED**: {e}\n\n"));
        }
    }
    let (Some(ox), Some(pb)) = (ok[0], ok[1]) else {
        return out;
    };
    let ratio = |a: f64, b: f64| {
        if b > 0.0 {
            format!("{:.2}×", a / b)
        } else {
            "–".into()
        }
    };
    let rows = [
        ("upload MiB/s", ox.upload_mib_s, pb.upload_mib_s),
        ("download MiB/s", ox.download_mib_s, pb.download_mib_s),
        (
            "server RSS before, MiB",
            ox.rss_before_mib,
            pb.rss_before_mib,
        ),
        (
            "peak RSS during upload, MiB",
            ox.upload_peak_mib,
            pb.upload_peak_mib,
        ),
        (
            "peak RSS during download, MiB",
            ox.download_peak_mib,
            pb.download_peak_mib,
        ),
        (
            "**memory growth during upload, MiB**",
            ox.upload_peak_mib - ox.rss_before_mib,
            pb.upload_peak_mib - pb.rss_before_mib,
        ),
        (
            "**memory growth during download, MiB**",
            ox.download_peak_mib - ox.rss_before_mib,
            pb.download_peak_mib - pb.rss_before_mib,
        ),
        ("server CPU per upload, s", ox.upload_cpu_s, pb.upload_cpu_s),
        (
            "server CPU per download, s",
            ox.download_cpu_s,
            pb.download_cpu_s,
        ),
    ];
    out.push_str("| | oxbase | PocketBase | × |\n|---|---:|---:|---:|\n");
    for (label, a, b) in rows {
        out.push_str(&format!(
            "| {label} | {a:.1} | {b:.1} | {} |\n",
            ratio(a, b)
        ));
    }
    let flat = |o: &Outcome| {
        (o.upload_peak_mib - o.rss_before_mib).max(o.download_peak_mib - o.rss_before_mib)
            < size_mib as f64 / 4.0
    };
    out.push_str(&format!(
        "\nThe × column is oxbase / PocketBase (above 1 is better for MiB/s). Memory stays flat (growth under a quarter of the \
         file): oxbase {}, PocketBase {}.\n",
        if flat(ox) { "yes" } else { "**no**" },
        if flat(pb) { "yes" } else { "**no**" }
    ));
    out
}
