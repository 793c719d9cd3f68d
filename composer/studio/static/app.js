// songc studio: compose, listen, compare. Talks to the JSON API of composer/studio/server.py.
"use strict";

const $ = (sel) => document.querySelector(sel);
const state = { examples: [], song: null, pair: null, draw: 0, locked: new Set() };

async function api(path, body) {
  const opts = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const res = await fetch(path, opts);
  const data = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  if (!res.ok) throw new Error(data.error || `HTTP ${res.status}`);
  return data;
}

function showError(msg) {
  const el = $("#error");
  el.textContent = msg || "";
  el.hidden = !msg;
}

function spec() {
  const ex = state.examples.find((e) => e.name === $("#example").value);
  const s = ex ? structuredClone(ex.spec) : {};
  const prompt = $("#prompt").value.trim();
  const form = $("#form").value.trim();
  const seed = $("#seed").value.trim();
  const cands = $("#candidates").value.trim();
  if (prompt) s.prompt = prompt;
  if (form) s.form = form;
  if (seed) s.seed = Number(seed);
  if (cands) s.candidates = Number(cands);
  if ($("#generator").value) s.generator = $("#generator").value;
  return s;
}

function progress(box, job) {
  const el = $(box);
  el.hidden = false;
  const share = job.total ? job.done / job.total : 0;
  el.querySelector(".bar div").style.width = `${Math.round(100 * (job.state === "done" ? 1 : share))}%`;
  const counts = job.total ? ` (${job.done}/${job.total} sections)` : "";
  el.querySelector("span").textContent = job.state === "done" ? "done" : `${job.stage}${counts}`;
}

async function follow(jobId, box) {
  for (;;) {
    const job = await api(`/api/jobs/${jobId}`);
    progress(box, job);
    if (job.state === "done") return job;
    if (job.state === "failed") throw new Error(job.error);
    await new Promise((r) => setTimeout(r, 400));
  }
}

function busy(on) {
  for (const b of document.querySelectorAll("button")) b.disabled = on;
}

async function compose() {
  showError("");
  busy(true);
  try {
    const { job } = await api("/api/compose", { spec: spec() });
    showSong(await follow(job, "#progress"));
  } catch (e) {
    showError(e.message);
  } finally {
    busy(false);
  }
}

function showSong(job) {
  state.song = job;
  state.locked.clear();
  const s = job.song;
  const url = (name) => `/api/jobs/${job.id}/files/${name}`;
  $("#song").hidden = false;
  $("#welcome").hidden = true;
  $("#song-title").textContent = s.title || "Untitled";
  const m = Math.floor(s.seconds / 60), sec = String(Math.round(s.seconds % 60)).padStart(2, "0");
  $("#song-meta").textContent =
    `${s.key} · ${s.tempo} bpm · ${s.time_signature} · ${s.style} · ${s.bars} bars (${m}:${sec}) · seed ${s.seed}`;
  const hasAudio = job.files.includes("song.ogg");
  $("#player").hidden = !hasAudio;
  if (hasAudio) $("#player").src = url("song.ogg");
  $("#no-audio").hidden = hasAudio;
  $("#no-audio").textContent = hasAudio ? "" : "No audio: FluidSynth is missing (make render-deps).";
  const dl = $("#downloads");
  dl.replaceChildren();
  for (const [fmt, problem] of Object.entries(job.downloads)) {
    const label = { mid: "MIDI", wav: "WAV", musicxml: "MusicXML", pdf: "PDF" }[fmt] || fmt;
    const el = document.createElement(problem ? "span" : "a");
    el.textContent = `⬇ ${label}`;
    if (problem) el.title = problem;
    else { el.href = `/api/jobs/${job.id}/download/${fmt}`; el.id = `download-${fmt}`; }
    dl.append(el);
  }
  showSections(job);
  $("#plan").src = job.files.includes("song.plan.png") ? url("song.plan.png") : "";
  $("#leadsheet").src = job.files.includes("song.png") ? url("song.png") : "";
}

function showSections(job) {
  const box = $("#sections");
  box.replaceChildren();
  for (const sec of job.song.sections) {
    const chip = document.createElement("div");
    chip.className = "section" + (state.locked.has(sec.id) ? " locked" : "");
    chip.dataset.section = sec.id;
    const name = document.createElement("b");
    name.textContent = sec.id;
    const bars = document.createElement("span");
    bars.textContent = `bar ${sec.start_bar}, ${sec.bars} bars`;
    chip.append(name, bars);
    if (job.revise) {
      const regen = document.createElement("button");
      regen.textContent = "Regenerate";
      regen.className = "regenerate";
      regen.disabled = state.locked.has(sec.id);
      regen.onclick = () => regenerate(sec.id);
      const lock = document.createElement("button");
      lock.textContent = state.locked.has(sec.id) ? "Unlock" : "Lock";
      lock.className = "lock";
      lock.onclick = () => {
        if (state.locked.has(sec.id)) state.locked.delete(sec.id); else state.locked.add(sec.id);
        showSections(job);
      };
      chip.append(regen, lock);
    }
    box.append(chip);
  }
  $("#revise-note").textContent = job.revise ? "Regenerate recomposes one section and keeps every other note; a locked section is never regenerated." : "";
}

async function regenerate(sectionId) {
  showError("");
  busy(true);
  try {
    const { job } = await api(`/api/jobs/${state.song.id}/revise`, {
      sections: [sectionId], locked: [...state.locked],
    });
    const locked = new Set(state.locked);
    showSong(await follow(job, "#progress"));
    state.locked = locked;
    showSections(state.song);
  } catch (e) {
    showError(e.message);
  } finally {
    busy(false);
  }
}

async function makePair(kind) {
  $("#rate-status").textContent = "";
  busy(true);
  $("#pair").hidden = true;
  try {
    const body = { kind, spec: spec(), draw: state.draw++ };
    const { job } = await api("/api/pairs", body);
    const done = await follow(job, "#pair-progress");
    state.pair = done;
    const p = done.pair;
    $("#pair-what").textContent = p.kind === "section"
      ? `Section ${p.section} (bar ${p.start_bar}) in the same song; the players start just before it.`
      : "Two songs from the same request.";
    for (const side of ["a", "b"]) {
      const player = $(`#player-${side}`);
      player.src = `/api/jobs/${done.id}/files/${side}.ogg`;
      // a section's takes start a bar before it: the listener hears it arrive in context
      player.onloadedmetadata = () => { player.currentTime = p.lead_in_seconds || 0; };
    }
    for (const c of document.querySelectorAll(".tags input")) c.checked = false;
    $("#pair").hidden = false;
  } catch (e) {
    $("#rate-status").textContent = `error: ${e.message}`;
  } finally {
    busy(false);
  }
}

async function rate(outcome) {
  if (!state.pair) return;
  const tags = [...document.querySelectorAll(".tags input:checked")].map((c) => c.value);
  busy(true);
  try {
    const r = await api(`/api/pairs/${state.pair.id}/rate`, {
      outcome, tags, rater: $("#rater").value.trim() || "me",
    });
    localStorage.setItem("songc-rater", $("#rater").value.trim());
    $("#rate-status").textContent = `Stored rating #${r.rating}. Thank you!`;
    setCount(r.count);
    $("#pair").hidden = true;
    state.pair = null;
  } catch (e) {
    $("#rate-status").textContent = `error: ${e.message}`;
  } finally {
    busy(false);
  }
}

function setCount(n) {
  $("#rating-count").textContent = `${n} rating${n === 1 ? "" : "s"}`;
}

async function init() {
  const saved = localStorage.getItem("songc-rater");
  if (saved) $("#rater").value = saved;
  $("#compose").onclick = compose;
  $("#pair-section").onclick = () => makePair("section");
  $("#pair-song").onclick = () => makePair("song");
  for (const b of document.querySelectorAll("[data-outcome]")) b.onclick = () => rate(b.dataset.outcome);
  $("#example").onchange = () => {
    const ex = state.examples.find((e) => e.name === $("#example").value);
    $("#prompt").placeholder = ex && ex.spec.prompt ? ex.spec.prompt : "a wistful jazz ballad in Eb major, 72 bpm";
    $("#form").placeholder = ex && ex.spec.form ? ex.spec.form : "AABA";
  };
  try {
    const offer = await api("/api/examples");
    state.examples = offer.examples;
    for (const g of offer.generators) {
      const o = document.createElement("option");
      o.value = o.textContent = g;
      $("#generator").append(o);
    }
    for (const ex of state.examples) {
      const o = document.createElement("option");
      o.value = ex.name;
      o.textContent = ex.name.replace(/_/g, " ");
      $("#example").append(o);
    }
    setCount((await api("/api/ratings")).count);
  } catch (e) {
    showError(e.message);
  }
  document.body.dataset.ready = "1";
}

init();
