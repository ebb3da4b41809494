//! A figure directive in a lesson: a fenced block whose info string is
//! `figure <name>` and whose body is TOML settings (see [`crate::figure`]
//! for the figures, their settings and defaults).
//!
//! ````markdown
//! ```figure quantize-tensor
//! values = [[0.5, 0.123, 0.0, 2.0]]
//! bits = 4
//! ```
//! ````
//!
//! Errors point into the lesson file: an unknown name at the name, an
//! unknown setting at its key, a bad value at the value, bad TOML where
//! toml says.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use toml::Spanned;

use super::error::{Error, Source};
use super::quiz::is_id;
use super::toml_error::message;
use crate::figure::{
    is_linear_layer, ActivationRanges, BlockFormat, BlockFormats, Figure, FlipIt, FlipScheme,
    Granularity, Mapping, QuantizeTensor, SeedCode, Temperature, TENSOR_BITS,
};

/// Most characters a figure's `text` may have.
const MAX_TEXT: usize = 500;

/// A `figure` fence as found in the Markdown, with file offsets.
pub(crate) struct Fence {
    /// The word after `figure` (empty when there is none).
    pub(crate) name: String,
    /// File offset of the name, or of `figure` when there is no name.
    pub(crate) name_at: usize,
    /// Anything after the name on the fence line, with its file offset.
    pub(crate) extra: Option<(String, usize)>,
    /// The body, as pulldown-cmark gives it (container prefixes removed).
    pub(crate) body: String,
    /// `(body offset, file offset)` at the start of each piece of body text,
    /// so spans in the body map back to the file even inside a list.
    pub(crate) pieces: Vec<(usize, usize)>,
    /// File offset of the line after the fence line (for an empty body).
    pub(crate) body_at: usize,
}

impl Fence {
    /// Add a piece of body text that starts at `file_at` in the file.
    pub(crate) fn push(&mut self, text: &str, file_at: usize) {
        self.pieces.push((self.body.len(), file_at));
        self.body.push_str(text);
    }

    /// The file offset of a byte offset in the body.
    fn file_offset(&self, at: usize) -> usize {
        match self.pieces.iter().rev().find(|(b, _)| *b <= at) {
            Some((b, f)) => f + (at - b),
            None => self.body_at,
        }
    }
}

/// The figure of a fence and its id, or `None` after reporting why not.
/// `seen` holds the ids used so far in the lesson (with their offsets).
pub(crate) fn parse_figure(
    fence: &Fence,
    src: &Source<'_>,
    seen: &mut BTreeMap<String, usize>,
    errors: &mut Vec<Error>,
) -> Option<(String, Figure)> {
    let mut c = Check {
        fence,
        src,
        errors,
        failed: false,
    };
    let names = Figure::NAMES.join(", ");
    if fence.name.is_empty() {
        c.fail_file(
            fence.name_at,
            format!("expected a figure name after `figure`, one of: {names}"),
        );
        return None;
    }
    if let Some((extra, at)) = &fence.extra {
        c.fail_file(
            *at,
            format!("expected only a figure name after `figure`, found `{extra}` as well"),
        );
    }
    let (id, figure) = match fence.name.as_str() {
        "quantize-tensor" => quantize_tensor(c.settings()?, &mut c),
        "seed-code" => seed_code(c.settings()?, &mut c),
        "temperature" => temperature(c.settings()?, &mut c),
        "activation-ranges" => activation_ranges(c.settings()?, &mut c),
        "block-formats" => block_formats(c.settings()?, &mut c),
        "flip-it" => flip_it(c.settings()?, &mut c),
        other => {
            c.fail_file(
                fence.name_at,
                format!("unknown figure `{other}`, expected one of: {names}"),
            );
            return None;
        }
    };
    let (id, id_at) = match id {
        Some(id) => {
            let at = fence.file_offset(id.span().start);
            if !is_id(id.get_ref()) {
                c.fail_file(
                    at,
                    format!(
                        "expected an id of lowercase letters, digits and hyphens, found `{}`",
                        id.get_ref()
                    ),
                );
            }
            (id.into_inner(), at)
        }
        None => (fence.name.clone(), fence.name_at),
    };
    if let Some(&first) = seen.get(&id) {
        let (line, col) = src.line_col(first);
        c.fail_file(
            id_at,
            format!("duplicate figure id `{id}` (first used at {line}:{col}); expected `id = \"…\"` to tell them apart"),
        );
    } else {
        seen.insert(id.clone(), id_at);
    }
    (!c.failed).then_some((id, figure))
}

/// Error collection for one fence.
struct Check<'a, 'b, 'c> {
    fence: &'a Fence,
    src: &'a Source<'b>,
    errors: &'c mut Vec<Error>,
    failed: bool,
}

impl Check<'_, '_, '_> {
    fn fail_file(&mut self, at: usize, message: String) {
        self.failed = true;
        self.errors.push(self.src.at(at, message));
    }

    /// An error at a span of the body.
    fn fail<T>(&mut self, value: &Spanned<T>, message: String) {
        self.fail_file(self.fence.file_offset(value.span().start), message);
    }

    /// The body as settings struct `T`; TOML and serde errors placed in the file.
    fn settings<T: DeserializeOwned>(&mut self) -> Option<T> {
        match toml::from_str(&self.fence.body) {
            Ok(t) => Some(t),
            Err(e) => {
                let at = e
                    .span()
                    .map_or(self.fence.body_at, |s| self.fence.file_offset(s.start));
                let what = message(&e);
                self.fail_file(at, format!("in figure `{}`: {what}", self.fence.name));
                None
            }
        }
    }

    /// A sentence: non-empty, at most [`MAX_TEXT`] characters.
    fn text(&mut self, text: Option<Spanned<String>>, default: String) -> String {
        let Some(text) = text else { return default };
        let n = text.get_ref().chars().count();
        if text.get_ref().trim().is_empty() || n > MAX_TEXT {
            self.fail(
                &text,
                format!("expected `text` of 1 to {MAX_TEXT} characters, found {n}"),
            );
        }
        text.into_inner()
    }

    fn layer(&mut self, layer: Option<Spanned<String>>, default: String) -> String {
        let Some(layer) = layer else { return default };
        if !is_linear_layer(layer.get_ref()) {
            self.fail(
                &layer,
                format!(
                    "expected a DistilBERT Linear layer (transformer.layer.<n>.attention.{{q_lin,k_lin,v_lin,out_lin}}, transformer.layer.<n>.ffn.{{lin1,lin2}}, pre_classifier or classifier), found `{}`",
                    layer.get_ref()
                ),
            );
        }
        layer.into_inner()
    }

    /// A whole number within `lo..=hi`.
    fn within(
        &mut self,
        key: &str,
        v: Option<Spanned<u32>>,
        lo: u32,
        hi: u32,
        default: u32,
    ) -> u32 {
        let Some(v) = v else { return default };
        if !(lo..=hi).contains(v.get_ref()) {
            self.fail(
                &v,
                format!("expected `{key}` from {lo} to {hi}, found {}", v.get_ref()),
            );
        }
        v.into_inner()
    }
}

type Id = Option<Spanned<String>>;
/// Rows of values, each spanned down to the number.
type Rows = Spanned<Vec<Spanned<Vec<Spanned<f32>>>>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuantizeTensorDef {
    id: Id,
    values: Option<Rows>,
    range: Option<Spanned<[f32; 2]>>,
    bits: Option<Spanned<u8>>,
    mapping: Option<Mapping>,
    granularity: Option<Granularity>,
}

fn quantize_tensor(d: QuantizeTensorDef, c: &mut Check<'_, '_, '_>) -> (Id, Figure) {
    let mut f = QuantizeTensor::default();
    if let Some(rows) = d.values {
        if !(1..=4).contains(&rows.get_ref().len()) {
            c.fail(
                &rows,
                format!(
                    "expected `values` to have 1 to 4 rows, found {}",
                    rows.get_ref().len()
                ),
            );
        }
        for row in rows.get_ref() {
            if !(1..=8).contains(&row.get_ref().len()) {
                c.fail(
                    row,
                    format!(
                        "expected a row of 1 to 8 values, found {}",
                        row.get_ref().len()
                    ),
                );
            }
            for v in row.get_ref().iter().filter(|v| !v.get_ref().is_finite()) {
                c.fail(
                    v,
                    format!("expected a finite number, found {}", v.get_ref()),
                );
            }
        }
        f.values = rows
            .into_inner()
            .into_iter()
            .map(|r| {
                r.into_inner()
                    .into_iter()
                    .map(Spanned::into_inner)
                    .collect()
            })
            .collect();
    }
    if let Some(range) = d.range {
        let [lo, hi] = *range.get_ref();
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            c.fail(
                &range,
                format!("expected `range = [min, max]` with finite min < max, found [{lo}, {hi}]"),
            );
        }
        f.range = Some([lo, hi]);
    }
    if let Some(bits) = d.bits {
        if !TENSOR_BITS.contains(bits.get_ref()) {
            c.fail(
                &bits,
                format!("expected `bits` of 2, 3, 4 or 8, found {}", bits.get_ref()),
            );
        }
        f.bits = bits.into_inner();
    }
    f.mapping = d.mapping.unwrap_or(f.mapping);
    f.granularity = d.granularity.unwrap_or(f.granularity);
    (d.id, Figure::QuantizeTensor(f))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedCodeDef {
    id: Id,
    text: Option<Spanned<String>>,
}

fn seed_code(d: SeedCodeDef, c: &mut Check<'_, '_, '_>) -> (Id, Figure) {
    let f = SeedCode::default();
    let text = c.text(d.text, f.text);
    (d.id, Figure::SeedCode(SeedCode { text }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TemperatureDef {
    id: Id,
    text: Option<Spanned<String>>,
    temperature: Option<Spanned<f32>>,
}

fn temperature(d: TemperatureDef, c: &mut Check<'_, '_, '_>) -> (Id, Figure) {
    let mut f = Temperature::default();
    f.text = c.text(d.text, f.text);
    if let Some(t) = d.temperature {
        if !(0.5..=10.0).contains(t.get_ref()) {
            c.fail(
                &t,
                format!(
                    "expected `temperature` from 0.5 to 10, found {}",
                    t.get_ref()
                ),
            );
        }
        f.temperature = t.into_inner();
    }
    (d.id, Figure::Temperature(f))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActivationRangesDef {
    id: Id,
    text: Option<Spanned<String>>,
    layer: Option<Spanned<String>>,
    bins: Option<Spanned<u32>>,
}

fn activation_ranges(d: ActivationRangesDef, c: &mut Check<'_, '_, '_>) -> (Id, Figure) {
    let f = ActivationRanges::default();
    let f = ActivationRanges {
        text: c.text(d.text, f.text),
        layer: c.layer(d.layer, f.layer),
        bins: c.within("bins", d.bins, 8, 100, f.bins),
    };
    (d.id, Figure::ActivationRanges(f))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BlockFormatsDef {
    id: Id,
    layer: Option<Spanned<String>>,
    row: Option<u32>,
    formats: Option<Spanned<Vec<Spanned<BlockFormat>>>>,
}

fn block_formats(d: BlockFormatsDef, c: &mut Check<'_, '_, '_>) -> (Id, Figure) {
    let mut f = BlockFormats::default();
    f.layer = c.layer(d.layer, f.layer);
    f.row = d.row.unwrap_or(f.row);
    if let Some(formats) = d.formats {
        if formats.get_ref().is_empty() {
            c.fail(
                &formats,
                "expected at least one of `formats`: q8_0, q4_0, q4_k".into(),
            );
        }
        let mut chosen = Vec::new();
        for x in formats.get_ref() {
            if chosen.contains(x.get_ref()) {
                c.fail(
                    x,
                    format!("duplicate format `{}` in `formats`", x.get_ref().name()),
                );
            } else {
                chosen.push(*x.get_ref());
            }
        }
        f.formats = chosen;
    }
    (d.id, Figure::BlockFormats(f))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlipItDef {
    id: Id,
    text: Option<Spanned<String>>,
    scheme: Option<FlipScheme>,
    hints: Option<Spanned<u32>>,
}

fn flip_it(d: FlipItDef, c: &mut Check<'_, '_, '_>) -> (Id, Figure) {
    let f = FlipIt::default();
    let f = FlipIt {
        text: c.text(d.text, f.text),
        scheme: d.scheme.unwrap_or(f.scheme),
        hints: c.within("hints", d.hints, 0, 20, f.hints),
    };
    (d.id, Figure::FlipIt(f))
}

#[cfg(test)]
mod tests;
