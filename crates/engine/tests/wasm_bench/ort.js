// onnxruntime-web for tests/wasm_bench/ort.rs: load a copy of it, open sessions, run
// forwards. The Rust side does the timing and the interleaving; this is only the glue.

// A copy of ORT whose wasm runs on `threads` threads, from `base` (ORT's dist/ folder,
// served by `cargo xtask bench`). ORT fixes its thread count when its wasm starts, once
// per module instance, and the browser keeps one instance per URL: hence the query, one
// copy per thread count.
export async function ortLoad(base, threads) {
  const ort = await import(`${base}/ort.wasm.min.mjs?threads=${threads}`);
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.wasmPaths = `${base}/`;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
  return ort;
}

// A session on the ONNX file at `url`, on ORT's wasm (CPU) execution provider.
export function ortSession(ort, url) {
  return ort.InferenceSession.create(url, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
}

// The inputs for one sentence: its token ids (copied out of wasm memory) and a mask of ones.
export function ortFeeds(ort, ids) {
  const dims = [1, ids.length];
  return {
    input_ids: new ort.Tensor('int64', new BigInt64Array(ids), dims),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), dims),
  };
}

// One forward; its logits.
export async function ortRun(session, feeds) {
  const out = await session.run(feeds);
  return out.logits.data;
}

// Whether the page may share memory with workers (ORT's threads need it).
export function isolated() {
  return self.crossOriginIsolated === true;
}

// Logical cores the browser reports.
export function cores() {
  return navigator.hardwareConcurrency || 1;
}

// Frees a session's memory in ORT's wasm heap.
export function ortRelease(session) {
  return session.release();
}
