//! The interactive figures a lesson can embed with a ```` ```figure <name> ````
//! fence, as typed settings. The build fills in every default (see
//! `load::figure`), so the page gets complete settings and only has to run
//! and draw them.
//!
//! The registry of names is [`Figure::NAMES`]; each figure's settings and
//! defaults are the structs below.

use serde::{Deserialize, Serialize};

/// The sentence the seed document runs through DistilBERT.
pub const SEED_TEXT: &str = "I love learning about AI!";
/// The Linear layer a figure looks at unless told otherwise.
pub const DEFAULT_LAYER: &str = "transformer.layer.0.attention.q_lin";

/// One figure with its settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "kebab-case")]
pub enum Figure {
    /// `quantize-tensor`: quantize a small tensor and show the grid, the
    /// integers and the error.
    QuantizeTensor(QuantizeTensor),
    /// `seed-code`: the seed's PyTorch snippet, run: f32 and int8 logits and their MSE.
    SeedCode(SeedCode),
    /// `temperature`: the teacher's soft labels at a temperature.
    Temperature(Temperature),
    /// `activation-ranges`: a histogram of one layer's inputs for a sentence.
    ActivationRanges(ActivationRanges),
    /// `block-formats`: one weight row stored in GGML block formats, with each error.
    BlockFormats(BlockFormats),
    /// `flip-it`: find a sentence whose label a quantization scheme flips.
    FlipIt(FlipIt),
}

impl Figure {
    /// Every figure name a lesson may use, in the order of the variants.
    pub const NAMES: &'static [&'static str] = &[
        "quantize-tensor",
        "seed-code",
        "temperature",
        "activation-ranges",
        "block-formats",
        "flip-it",
    ];

    /// The figure's name as written in the fence (and as its default id).
    pub fn name(&self) -> &'static str {
        match self {
            Figure::QuantizeTensor(_) => "quantize-tensor",
            Figure::SeedCode(_) => "seed-code",
            Figure::Temperature(_) => "temperature",
            Figure::ActivationRanges(_) => "activation-ranges",
            Figure::BlockFormats(_) => "block-formats",
            Figure::FlipIt(_) => "flip-it",
        }
    }

    /// A short human title, e.g. for a caption or a "run the … figure" hint.
    pub fn title(&self) -> &'static str {
        title(self.name()).unwrap_or_default()
    }
}

/// The title of the figure called `name`.
pub(crate) fn title(name: &str) -> Option<&'static str> {
    Some(match name {
        "quantize-tensor" => "Quantize a tensor",
        "seed-code" => "Seed code",
        "temperature" => "Temperature",
        "activation-ranges" => "Activation ranges",
        "block-formats" => "Block formats",
        "flip-it" => "Flip it",
        _ => return None,
    })
}

/// The HTML id of the figure with this id (`figure-<id>`): a link to
/// `/learn/<slug>#figure-<id>` lands on it.
pub fn anchor(id: &str) -> String {
    format!("figure-{id}")
}

/// Settings of `quantize-tensor`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuantizeTensor {
    /// The tensor: 1–4 rows of 1–8 finite values.
    pub values: Vec<Vec<f32>>,
    /// A fixed `[min, max]` to quantize over (min < max); `None` takes the
    /// range from the values.
    pub range: Option<[f32; 2]>,
    /// Bits per value: 2, 3, 4 or 8.
    pub bits: u8,
    /// How real values map to integers.
    pub mapping: Mapping,
    /// One scale for the tensor or one per row.
    pub granularity: Granularity,
}

impl Default for QuantizeTensor {
    /// The quantization lesson's worked example, 8-bit affine per tensor.
    fn default() -> Self {
        QuantizeTensor {
            values: vec![vec![0.5, 0.123, 0.0, 2.0]],
            range: None,
            bits: 8,
            mapping: Mapping::Affine,
            granularity: Granularity::Tensor,
        }
    }
}

/// Bit widths `quantize-tensor` offers.
pub const TENSOR_BITS: &[u8] = &[2, 3, 4, 8];

/// How real values map to integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mapping {
    /// Scale and zero point: the range's min and max both land on the grid.
    Affine,
    /// Zero point 0: the grid is symmetric around zero.
    Symmetric,
}

/// How many scales a tensor gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Granularity {
    /// One scale (and zero point) for the whole tensor.
    Tensor,
    /// One per row.
    Row,
}

/// Settings of `seed-code`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedCode {
    /// The sentence to classify (non-empty, at most 500 characters).
    pub text: String,
}

impl Default for SeedCode {
    fn default() -> Self {
        SeedCode {
            text: SEED_TEXT.into(),
        }
    }
}

/// Settings of `temperature`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Temperature {
    /// The sentence the teacher labels.
    pub text: String,
    /// The starting temperature, 0.5 to 10.
    pub temperature: f32,
}

impl Default for Temperature {
    fn default() -> Self {
        Temperature {
            text: SEED_TEXT.into(),
            temperature: 2.0,
        }
    }
}

/// Settings of `activation-ranges`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivationRanges {
    /// The sentence whose activations are measured.
    pub text: String,
    /// The Linear layer whose input is shown (see [`is_linear_layer`]).
    pub layer: String,
    /// Histogram bins, 8 to 100.
    pub bins: u32,
}

impl Default for ActivationRanges {
    fn default() -> Self {
        ActivationRanges {
            text: SEED_TEXT.into(),
            layer: DEFAULT_LAYER.into(),
            bins: 40,
        }
    }
}

/// Settings of `block-formats`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlockFormats {
    /// The Linear layer whose weights are stored (see [`is_linear_layer`]).
    pub layer: String,
    /// The weight row shown.
    pub row: u32,
    /// The formats compared: at least one, no repeats.
    pub formats: Vec<BlockFormat>,
}

impl Default for BlockFormats {
    fn default() -> Self {
        BlockFormats {
            layer: DEFAULT_LAYER.into(),
            row: 0,
            formats: BlockFormat::ALL.to_vec(),
        }
    }
}

/// A GGML block format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum BlockFormat {
    /// 32 values, one f16 scale, 8-bit integers.
    #[serde(rename = "q8_0")]
    Q8_0,
    /// 32 values, one f16 scale, 4-bit integers.
    #[serde(rename = "q4_0")]
    Q4_0,
    /// 256-value super-blocks of 32-value blocks with 6-bit scales and mins, 4-bit integers.
    #[serde(rename = "q4_k")]
    Q4K,
}

impl BlockFormat {
    /// All formats, in the order shown by default.
    pub const ALL: &'static [BlockFormat] =
        &[BlockFormat::Q8_0, BlockFormat::Q4_0, BlockFormat::Q4K];

    /// The format's name (`q8_0`, `q4_0`, `q4_k`).
    pub fn name(self) -> &'static str {
        match self {
            BlockFormat::Q8_0 => "q8_0",
            BlockFormat::Q4_0 => "q4_0",
            BlockFormat::Q4K => "q4_k",
        }
    }
}

/// Settings of `flip-it`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlipIt {
    /// The sentence to start from.
    pub text: String,
    /// The quantization scheme compared with f32.
    pub scheme: FlipScheme,
    /// How many hint words to offer, 0 to 20.
    pub hints: u32,
}

impl Default for FlipIt {
    fn default() -> Self {
        FlipIt {
            text: "not bad at all".into(),
            scheme: FlipScheme::Int8Dynamic,
            hints: 5,
        }
    }
}

/// A scheme `flip-it` compares with f32.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FlipScheme {
    /// PyTorch's `quantize_dynamic`: int8 weights, activations quantized per call.
    #[serde(rename = "int8-dynamic")]
    Int8Dynamic,
    /// GGML's q4_0 for every Linear.
    #[serde(rename = "q4_0")]
    Q4_0,
}

impl FlipScheme {
    /// The scheme's name (`int8-dynamic`, `q4_0`).
    pub fn name(self) -> &'static str {
        match self {
            FlipScheme::Int8Dynamic => "int8-dynamic",
            FlipScheme::Q4_0 => "q4_0",
        }
    }
}

/// What part of DistilBERT a Linear layer belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerKind {
    /// `q_lin`, `k_lin`, `v_lin`, `out_lin`.
    Attention,
    /// `lin1`, `lin2`.
    FeedForward,
    /// `pre_classifier`, `classifier`.
    Head,
}

impl LayerKind {
    /// The kind of a Linear layer, judged by its last name part (`lin1` in
    /// `transformer.layer.0.ffn.lin1`).
    pub fn of(layer: &str) -> Option<LayerKind> {
        let last = layer.rsplit('.').next().unwrap_or_default();
        Some(match last {
            "q_lin" | "k_lin" | "v_lin" | "out_lin" => LayerKind::Attention,
            "lin1" | "lin2" => LayerKind::FeedForward,
            "pre_classifier" | "classifier" => LayerKind::Head,
            _ => return None,
        })
    }

    /// `attention`, `feed-forward` or `head`.
    pub fn name(self) -> &'static str {
        match self {
            LayerKind::Attention => "attention",
            LayerKind::FeedForward => "feed-forward",
            LayerKind::Head => "head",
        }
    }
}

/// Is `name` a DistilBERT Linear layer as the engine names it (the checkpoint's
/// names without the `distilbert.` prefix):
/// `transformer.layer.<n>.attention.{q_lin,k_lin,v_lin,out_lin}`,
/// `transformer.layer.<n>.ffn.{lin1,lin2}`, `pre_classifier` or `classifier`?
pub fn is_linear_layer(name: &str) -> bool {
    if name == "pre_classifier" || name == "classifier" {
        return true;
    }
    let Some(rest) = name.strip_prefix("transformer.layer.") else {
        return false;
    };
    let Some((n, tail)) = rest.split_once('.') else {
        return false;
    };
    let number = !n.is_empty()
        && n.len() <= 3
        && n.bytes().all(|b| b.is_ascii_digit())
        && (n == "0" || !n.starts_with('0'));
    number
        && matches!(
            tail,
            "attention.q_lin"
                | "attention.k_lin"
                | "attention.v_lin"
                | "attention.out_lin"
                | "ffn.lin1"
                | "ffn.lin2"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_titles_and_variants_agree() {
        let all = [
            Figure::QuantizeTensor(QuantizeTensor::default()),
            Figure::SeedCode(SeedCode::default()),
            Figure::Temperature(Temperature::default()),
            Figure::ActivationRanges(ActivationRanges::default()),
            Figure::BlockFormats(BlockFormats::default()),
            Figure::FlipIt(FlipIt::default()),
        ];
        let names: Vec<&str> = all.iter().map(Figure::name).collect();
        assert_eq!(names, Figure::NAMES);
        for f in &all {
            assert!(!f.title().is_empty());
            let json = serde_json::to_value(f).unwrap();
            assert_eq!(json["name"], f.name(), "serde tag is the fence name");
            assert_eq!(serde_json::from_value::<Figure>(json).unwrap(), *f);
        }
        assert_eq!(anchor("flip-it"), "figure-flip-it");
    }

    #[test]
    fn linear_layer_names() {
        for ok in [
            "transformer.layer.0.attention.q_lin",
            "transformer.layer.5.attention.out_lin",
            "transformer.layer.11.ffn.lin2",
            "pre_classifier",
            "classifier",
        ] {
            assert!(is_linear_layer(ok), "{ok}");
        }
        for bad in [
            "",
            "q_lin",
            "distilbert.transformer.layer.0.attention.q_lin",
            "transformer.layer.01.ffn.lin1",
            "transformer.layer.x.ffn.lin1",
            "transformer.layer.0.ffn.lin3",
            "transformer.layer.0.attention.q_lin.weight",
        ] {
            assert!(!is_linear_layer(bad), "{bad}");
        }
        assert_eq!(
            LayerKind::of("transformer.layer.2.ffn.lin1"),
            Some(LayerKind::FeedForward)
        );
        assert_eq!(LayerKind::of(DEFAULT_LAYER), Some(LayerKind::Attention));
        assert_eq!(LayerKind::of("classifier"), Some(LayerKind::Head));
        assert_eq!(LayerKind::of("embeddings"), None);
    }
}
