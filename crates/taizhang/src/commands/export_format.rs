//! The export file (docs/export-format.md): JSON lines, a header, one line per event in $all
//! order with EventStoreDB's field names, and a trailer with the count and a digest of the hashes.
//!
//! Writing is [`header_line`], [`event_line`], [`trailer_line`]; reading is [`FileReader`], which
//! checks everything a file can be checked for without a store (JSON, fields, each stream's hash
//! chain, count and digest against header and trailer) as it goes, so the importer runs it once
//! over the whole file before writing anything.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use eventstore::{ChainCheck, ImportEvent, ImportSummary, Position, RecordedEvent, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use uuid::Uuid;

/// The header's `format`, and the trailer's `end`.
pub const FORMAT: &str = "taizhang-export";
/// The version of the format this binary writes. Version 2 added the header's `verified`;
/// version 1 files (without it) are still read.
pub const FORMAT_VERSION: u32 = 2;
/// The oldest version this binary reads.
pub const OLDEST_FORMAT_VERSION: u32 = 1;

/// Metadata keys the command handler writes, and EventStoreDB's names for them in the file.
const RENAMED_METADATA: [(&str, &str); 2] = [
    ("correlationId", "$correlationId"),
    ("causationId", "$causationId"),
];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Header {
    pub format: String,
    pub format_version: u32,
    /// The backend the events were exported from (`postgresql`, `sqlite`).
    pub source_backend: String,
    pub exported_at: String,
    pub event_count: u64,
    /// The source's position of the last event; `null` for an empty store.
    pub head_position: Option<FilePosition>,
    /// Version 2 on: whether the source passed `verify` right before the export (`false` only
    /// with `export --unverified`). Absent in version 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilePosition {
    pub commit: u64,
    pub prepare: i64,
}

impl From<Position> for FilePosition {
    fn from(p: Position) -> Self {
        FilePosition {
            commit: p.commit,
            prepare: p.prepare,
        }
    }
}

/// One event. Field order is the order written (serde follows the struct).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventLine {
    pub event_id: Uuid,
    pub event_type: String,
    pub data: Value,
    pub metadata: Map<String, Value>,
    pub stream: String,
    pub version: u64,
    pub position: FilePosition,
    pub schema_version: u32,
    pub recorded_at: String,
    pub hash: String,
    pub prev_hash: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Trailer {
    pub end: String,
    pub event_count: u64,
    /// SHA-256 over the events' hashes (32 bytes each) in file order, lower-case hex.
    pub digest: String,
}

/// Why a file cannot be written or imported. Every message names the line (1-based) and says what
/// is wrong, in English and Chinese.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read the file: {0} (无法读取文件)")]
    Io(#[from] std::io::Error),
    #[error("the file is empty: no header line (文件为空，缺少文件头)")]
    Empty,
    #[error("line {line} is not valid JSON: {error} (第 {line} 行不是有效的 JSON)")]
    BadJson { line: u64, error: serde_json::Error },
    #[error("line {line}: {problem} (第 {line} 行字段有误：{problem})")]
    Field { line: u64, problem: String },
    #[error(
        "line {line}: stream {stream} version {version}: {problem} \
         (第 {line} 行：流 {stream} 版本 {version} 的哈希链断裂)"
    )]
    Chain {
        line: u64,
        stream: String,
        version: u64,
        problem: String,
    },
    #[error(
        "the file ends after {events} events without its trailer line: it is truncated \
         (文件在第 {events} 个事件后结束且缺少结尾行：文件被截断)"
    )]
    Truncated { events: u64 },
    #[error(
        "line {line}: the file has {found} events but {place} says {expected}: events are \
         missing or were added (事件数 {found} 与{place_zh}所记 {expected} 不符)"
    )]
    CountMismatch {
        line: u64,
        found: u64,
        expected: u64,
        place: &'static str,
        place_zh: &'static str,
    },
    #[error(
        "line {line}: the digest of the event hashes is {found} but the trailer says {expected}: \
         the file was edited (事件哈希摘要与结尾行不符：文件被修改过)"
    )]
    DigestMismatch {
        line: u64,
        found: String,
        expected: String,
    },
    #[error("line {line}: there is more after the trailer line (第 {line} 行：结尾行之后还有内容)")]
    AfterTrailer { line: u64 },
}

fn field(line: u64, problem: impl Into<String>) -> FileError {
    FileError::Field {
        line,
        problem: problem.into(),
    }
}

/// `recordedAt`: RFC 3339 in UTC with exactly six fraction digits.
pub fn format_time(t: OffsetDateTime) -> Result<String, time::error::Format> {
    t.to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
        ))
}

pub fn header_line(header: &Header) -> Result<String, serde_json::Error> {
    serde_json::to_string(header)
}

pub fn trailer_line(count: u64, digest: &[u8; 32]) -> Result<String, serde_json::Error> {
    serde_json::to_string(&Trailer {
        end: FORMAT.to_owned(),
        event_count: count,
        digest: hex::encode(digest),
    })
}

/// The line of `e`, chained on `prev_hash`. Fails when the metadata cannot be written so that an
/// import gets it back unchanged (already holds EventStoreDB's `$` keys, or is not an object).
pub fn event_line(e: &RecordedEvent, prev_hash: &[u8; 32]) -> Result<String, String> {
    let Value::Object(mut metadata) = e.metadata.clone() else {
        return Err("its metadata is not a JSON object".to_owned());
    };
    for (ours, theirs) in RENAMED_METADATA {
        if metadata.contains_key(theirs) {
            return Err(format!(
                "its metadata already has the key {theirs:?}, which the file uses for {ours:?}"
            ));
        }
        if let Some(v) = metadata.remove(ours) {
            metadata.insert(theirs.to_owned(), v);
        }
    }
    let line = EventLine {
        event_id: e.id,
        event_type: e.event_type.clone(),
        data: e.data.clone(),
        metadata,
        stream: e.stream.clone(),
        version: e.version,
        position: e.position.into(),
        schema_version: e.schema_version,
        recorded_at: format_time(e.recorded_at).map_err(|err| err.to_string())?,
        hash: hex::encode(e.hash),
        prev_hash: hex::encode(prev_hash),
    };
    serde_json::to_string(&line).map_err(|err| err.to_string())
}

fn parse_hash(line: u64, name: &str, text: &str) -> Result<[u8; 32], FileError> {
    let bytes =
        hex::decode(text).map_err(|e| field(line, format!("`{name}` is not hexadecimal: {e}")))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| field(line, format!("`{name}` has {} bytes, not 32", b.len())))
}

/// The stored event of a parsed line, metadata keys mapped back.
fn to_import_event(line: u64, l: EventLine) -> Result<(ImportEvent, [u8; 32]), FileError> {
    let mut metadata = l.metadata;
    for (ours, theirs) in RENAMED_METADATA {
        if let Some(v) = metadata.remove(theirs) {
            if metadata.contains_key(ours) {
                return Err(field(
                    line,
                    format!("`metadata` has both {theirs:?} and {ours:?}"),
                ));
            }
            metadata.insert(ours.to_owned(), v);
        }
    }
    let recorded_at = OffsetDateTime::parse(&l.recorded_at, &Rfc3339).map_err(|e| {
        field(
            line,
            format!(
                "`recordedAt` {:?} is not an RFC 3339 time: {e}",
                l.recorded_at
            ),
        )
    })?;
    let event = ImportEvent {
        id: l.event_id,
        stream: l.stream,
        version: l.version,
        event_type: l.event_type,
        schema_version: l.schema_version,
        data: l.data,
        metadata: Value::Object(metadata),
        recorded_at,
        hash: parse_hash(line, "hash", &l.hash)?,
    };
    Ok((event, parse_hash(line, "prevHash", &l.prev_hash)?))
}

/// Reads and checks an export file line by line; memory grows with the number of streams only.
pub struct FileReader {
    lines: std::io::Lines<BufReader<File>>,
    line: u64,
    header: Header,
    chain: ChainCheck,
    done: bool,
    /// Set once the trailer has been read and checked.
    summary: Option<ImportSummary>,
}

impl FileReader {
    /// Opens `path` and reads its header.
    pub fn open(path: &Path) -> Result<FileReader, FileError> {
        let mut lines = BufReader::new(File::open(path)?).lines();
        let first = lines.next().ok_or(FileError::Empty)??;
        let value: Value =
            serde_json::from_str(&first).map_err(|error| FileError::BadJson { line: 1, error })?;
        if value.get("format").and_then(Value::as_str) != Some(FORMAT) {
            return Err(field(
                1,
                format!("the first line is not a header with \"format\": \"{FORMAT}\""),
            ));
        }
        let header: Header =
            serde_json::from_value(value).map_err(|e| field(1, format!("header: {e}")))?;
        if !(OLDEST_FORMAT_VERSION..=FORMAT_VERSION).contains(&header.format_version) {
            return Err(field(
                1,
                format!(
                    "format version {} is not supported (this taizhang reads versions \
                     {OLDEST_FORMAT_VERSION} to {FORMAT_VERSION})",
                    header.format_version
                ),
            ));
        }
        if (header.format_version >= 2) != header.verified.is_some() {
            return Err(field(
                1,
                format!(
                    "header: `verified` is required from format version 2 on and absent before \
                     (this file says version {})",
                    header.format_version
                ),
            ));
        }
        Ok(FileReader {
            lines,
            line: 1,
            header,
            chain: ChainCheck::new(),
            done: false,
            summary: None,
        })
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Events read so far.
    pub fn events(&self) -> u64 {
        self.summary
            .as_ref()
            .map_or_else(|| self.chain.events(), |s| s.events)
    }

    /// Count, streams and digest of the whole file, once the trailer has been checked.
    pub fn summary(&self) -> Option<&ImportSummary> {
        self.summary.as_ref()
    }

    /// Up to `max` more events, each checked against its stream's chain; `None` after the trailer
    /// has been read and checked (count and digest).
    pub fn next_batch(&mut self, max: usize) -> Result<Option<Vec<ImportEvent>>, FileError> {
        if self.done {
            return Ok(None);
        }
        let mut batch = Vec::with_capacity(max.min(1024));
        while batch.len() < max {
            let Some(text) = self.lines.next() else {
                return Err(FileError::Truncated {
                    events: self.chain.events(),
                });
            };
            let text = text?;
            self.line += 1;
            let line = self.line;
            let value: Value =
                serde_json::from_str(&text).map_err(|error| FileError::BadJson { line, error })?;
            if value.get("end").is_some() {
                self.finish(value)?;
                break;
            }
            let parsed: EventLine =
                serde_json::from_value(value).map_err(|e| field(line, format!("event: {e}")))?;
            let (event, prev_hash) = to_import_event(line, parsed)?;
            if prev_hash != self.chain.last_hash(&event.stream) {
                return Err(FileError::Chain {
                    line,
                    stream: event.stream,
                    version: event.version,
                    problem: "`prevHash` is not the hash of the stream's previous event in the \
                              file: an event before it is missing or was changed"
                        .to_owned(),
                });
            }
            self.chain.check(&event).map_err(|e| match e {
                StoreError::BrokenChain {
                    stream,
                    version,
                    problem,
                } => FileError::Chain {
                    line,
                    stream,
                    version,
                    problem,
                },
                other => field(line, other.to_string()),
            })?;
            batch.push(event);
        }
        if batch.is_empty() && self.done {
            return Ok(None);
        }
        Ok(Some(batch))
    }

    fn finish(&mut self, value: Value) -> Result<(), FileError> {
        let line = self.line;
        let trailer: Trailer =
            serde_json::from_value(value).map_err(|e| field(line, format!("trailer: {e}")))?;
        if trailer.end != FORMAT {
            return Err(field(
                line,
                format!("the trailer's `end` is not {FORMAT:?}"),
            ));
        }
        let found = self.chain.events();
        for (expected, place, place_zh) in [
            (trailer.event_count, "the trailer", "结尾行"),
            (self.header.event_count, "the header", "文件头"),
        ] {
            if found != expected {
                return Err(FileError::CountMismatch {
                    line,
                    found,
                    expected,
                    place,
                    place_zh,
                });
            }
        }
        let summary = std::mem::take(&mut self.chain).finish();
        let digest = hex::encode(summary.digest);
        if digest != trailer.digest {
            return Err(FileError::DigestMismatch {
                line,
                found: digest,
                expected: trailer.digest,
            });
        }
        self.summary = Some(summary);
        for rest in self.lines.by_ref() {
            self.line += 1;
            if !rest?.trim().is_empty() {
                return Err(FileError::AfterTrailer { line: self.line });
            }
        }
        self.done = true;
        Ok(())
    }
}
