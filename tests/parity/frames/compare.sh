#!/usr/bin/env bash
# ck vs golden.json (same-size stills at adjacent markers; the golden comes from ref_decode, see regen.sh).
#   compare.sh CK_BIN WORK_DIR [PRESETS (default: tiny,small)] [WHAT (default: decode,all_logits,bridge)]
#              [CASES (default: every case of case.json)] [THREADS (default: 1,2)]
# Per preset: ck-synth the models (sha256 must equal the golden's), plan them, then per case
#   ck-encode the images as mtmd groups them (a merged pair = ck-encode A B = one 2-frame prefix; with the case's
#   no_frame_merge every image alone; a video: ck-encode --video V -o DIR, the videos made by make_videos.sh and
#   their frames checked against the golden's sha256; a case with videos_first, whose still may share the video's
#   last chunk, which no ck-encode form writes: the prefixes ck-bridge --stop-after encode --work-dir keeps), and
#   decode:     ck-decode: chunks/positions, prompt text token ids, 32 greedy token ids, first-token logits sha256,
#               at every THREADS count (against the oracle's run at that count)
#   all_logits: ck-decode --logits-all-out (every prompt position + every step), sha256 of the file
#   bridge:     ck-bridge --image ... (it groups the images itself): token ids; report prefix frames
# Prints one OK / NOT OK line per comparison; exit 0 all equal, 1 any difference.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
B="$1"; W="$2"; PRESETS="${3:-tiny,small}"; WHAT="${4:-decode,all_logits,bridge}"; CASES="${5:-}"; THREADS="${6:-1,2}"
G="${CK_FRAMES_GOLDEN:-$HERE/golden.json}"   # parity_full.sh: a live golden of its own presets
IMAGES="$ROOT/tests/parity/images"
fresh() { [ -e "$1" ] && [ -z "$(find "$ROOT/templates" "$B/ck-convert" "$B/ck-lower" "$B/ck-layout" -newer "$1" -print -quit)" ]; }
mkdir -p "$W"
fails=0
ok()  { echo "OK      $*"; }
bad() { echo "NOT OK  $*"; fails=$((fails + 1)); }
jg()  { jq -r "$@" "$G"; }
N="$(jg .case.n_predict)"
[ -n "$CASES" ] || CASES="$(jg '.case.cases | keys_unsorted | join(",")')"
VIDEOS="$W/videos"
if [ "$(jg '[.case.cases[] | .videos // [] | length] | add')" != 0 ] && [[ ",$CASES," == *",video"* ]]; then
  bash "$HERE/make_videos.sh" "$VIDEOS"
  for v in $(jg '.videos | keys[]'); do
    got=$(ffmpeg -nostdin -i "$VIDEOS/$v" -vf fps=4.000000 -f rawvideo -pix_fmt rgb24 pipe:1 -loglevel error | sha256sum | cut -d' ' -f1)
    [ "$got" = "$(jg ".videos[\"$v\"].frames_rgb24_sha256")" ] && ok "frames video $v: ffmpeg frames = the golden's" \
      || bad "frames video $v: ffmpeg decodes other frames than the golden's ($(ffmpeg -version | head -1))"
  done
fi
for preset in ${PRESETS//,/ }; do
  d="$W/$preset"; mkdir -p "$d/models"
  for k in mmproj-f32 text-f16; do
    f="$d/models/$preset-$k.gguf"
    # shellcheck disable=SC2046
    [ -e "$f" ] || (cd "$d/models" && "$B/ck-synth" $(jg ".presets.$preset.models[\"$k\"].made_by" | cut -d' ' -f2-) -o . -q)
    if [ "$(sha256sum "$f" | cut -d' ' -f1)" != "$(jg ".presets.$preset.models[\"$k\"].sha256")" ]; then
      bad "frames $preset: $preset-$k.gguf sha256 differs from the golden's model"; continue 2
    fi
  done
  for k in mmproj-f32 text-f16; do
    fresh "$d/$k/call.json" && continue
    mkdir -p "$d/$k"
    (cd "$d/$k" && "$B/ck-convert" "$d/models/$preset-$k.gguf" -o w.bump 2>/dev/null | "$B/ck-lower" - -o ir1.json \
       2>/dev/null && "$B/ck-layout" ir1.json -o . 2>/dev/null) || { bad "frames $preset: planning $k failed"; continue 2; }
  done
  if [[ ",$WHAT," == *",all_logits,"* ]]; then
    fresh "$d/text-f16-all/call.json" || (cd "$d/text-f16" && "$B/ck-layout" ir1.json -o ../text-f16-all \
         --bound n_outputs=512 --weights "$d/text-f16/w.bump" 2>/dev/null) || { bad "frames $preset: planning all-outputs failed"; continue; }
  fi
  for c in ${CASES//,/ }; do
    g=".presets.$preset.cases.$c"
    PROMPT="$(jg ".case.cases.$c.prompt")"
    mapfile -t IMGS < <(jg ".case.cases.$c.images[]")
    mapfile -t VIDS < <(jg ".case.cases.$c.videos // [] | .[]")
    nfm=(); [ "$(jg ".case.cases.$c.no_frame_merge")" = true ] && nfm=(--no-frame-merge)
    vfirst="$(jg ".case.cases.$c.videos_first // false")"
    margs=(); for i in "${IMGS[@]}"; do margs+=(--image "$IMAGES/$i"); done
    vargs=(); for v in "${VIDS[@]}"; do vargs+=(--video "$VIDEOS/$v"); done
    if [ "$vfirst" = true ]; then bargs=("${vargs[@]}" "${margs[@]}"); else bargs=("${margs[@]}" "${vargs[@]}"); fi
    pre=()
    if [ "$vfirst" = true ]; then
      rm -rf "$d/$c.work"
      "$B/ck-bridge" --mmproj "$d/models/$preset-mmproj-f32.gguf" --model "$d/models/$preset-text-f16.gguf" \
          "${bargs[@]}" "${nfm[@]}" -p "$PROMPT" -t 2 --cache-dir "$d/cache" --stop-after encode \
          --work-dir "$d/$c.work" -q > /dev/null 2> "$d/encode.err" \
        || { bad "frames $preset $c: ck-bridge --stop-after encode failed: $(tail -1 "$d/encode.err")"; continue; }
      n_pre=$(find "$d/$c.work" -name 'prefix.*.bin' | wc -l)
      for ((q = 0; q < n_pre; q++)); do pre+=(--prefix "$d/$c.work/prefix.$q.bin"); done
      IMGS_ENC=(); VIDS_ENC=()
    else
      IMGS_ENC=("${IMGS[@]}"); VIDS_ENC=("${VIDS[@]}")
    fi
    # the groups mtmd makes: adjacent same-size pairs (every golden case has its markers adjacent, in image order;
    # the size is the PNG IHDR's width and height)
    i=0; k=0
    while [ $i -lt ${#IMGS_ENC[@]} ]; do
      grp=("$IMAGES/${IMGS[$i]}")
      if [ ${#nfm[@]} -eq 0 ] && [ $((i + 1)) -lt ${#IMGS[@]} ] && \
         [ "$(python3 -c 'import sys,struct; print(open(sys.argv[1],"rb").read(24)[16:24].hex())' "$IMAGES/${IMGS[$i]}")" = \
           "$(python3 -c 'import sys,struct; print(open(sys.argv[1],"rb").read(24)[16:24].hex())' "$IMAGES/${IMGS[$((i + 1))]}")" ]; then
        grp+=("$IMAGES/${IMGS[$((i + 1))]}"); i=$((i + 2))
      else
        i=$((i + 1))
      fi
      "$B/ck-encode" -m "$d/mmproj-f32" -t 2 "${grp[@]}" -o "$d/$c.$k.prefix" 2>"$d/encode.err" \
        || { bad "frames $preset $c: ck-encode ${grp[*]} failed: $(tail -1 "$d/encode.err")"; continue 2; }
      pre+=(--prefix "$d/$c.$k.prefix"); k=$((k + 1))
    done
    for v in "${VIDS_ENC[@]}"; do
      rm -rf "$d/$c.$v.d"
      "$B/ck-encode" -m "$d/mmproj-f32" -t 2 --video "$VIDEOS/$v" -o "$d/$c.$v.d" 2>"$d/encode.err" \
        || { bad "frames $preset $c: ck-encode --video $v failed: $(tail -1 "$d/encode.err")"; continue 2; }
      pre+=(--prefix "$d/$c.$v.d")
    done
    if [[ ",$WHAT," == *",decode,"* ]]; then
      tag="frames $preset $c"
      "$B/ck-decode" -m "$d/text-f16" "${pre[@]}" "${nfm[@]}" -p "$PROMPT" --plan > "$d/plan.json" 2>/dev/null
      mine=$(jq -c '[.chunks[] | {type, n_tokens} + (if .type == "image" then {pos0, n_pos} else {} end)]' "$d/plan.json")
      ref=$(jg -c "$g.chunks | [.[] | {type, n_tokens} + (if .type == \"image\" then {pos0, n_pos} else {} end)]")
      [ "$mine" = "$ref" ] && ok "$tag: chunks/positions ($mine)" || bad "$tag: chunks differ: ck $mine oracle $ref"
      [ "$(jq -c .prompt_text_tokens "$d/plan.json")" = "$(jg -c "$g.prompt_text_tokens")" ] \
        && ok "$tag: prompt text token ids" || bad "$tag: prompt text token ids differ"
      for t in ${THREADS//,/ }; do
        if "$B/ck-decode" -m "$d/text-f16" "${pre[@]}" "${nfm[@]}" -p "$PROMPT" -n "$N" -t "$t" \
             --logits-out "$d/first.f32" --tokens-out "$d/ids.txt" > /dev/null 2> "$d/decode.err"; then
          [ "$(cat "$d/ids.txt")" = "$(jg "$g.threads[\"$t\"].tokens | map(tostring) | join(\" \")")" ] \
            && ok "$tag t$t: greedy token ids ($N)" || bad "$tag t$t: token ids differ: $(cat "$d/ids.txt")"
          [ "$(sha256sum "$d/first.f32" | cut -d' ' -f1)" = "$(jg "$g.threads[\"$t\"].first_logits_sha256")" ] \
            && ok "$tag t$t: first-token logits (sha256 of $(jg "$g.n_vocab") floats)" \
            || bad "$tag t$t: first-token logits differ"
        else
          bad "$tag t$t: ck-decode failed: $(tail -1 "$d/decode.err")"
        fi
      done
    fi
    if [[ ",$WHAT," == *",all_logits,"* ]]; then
      tag="frames $preset $c all logits"
      if "$B/ck-decode" -m "$d/text-f16-all" "${pre[@]}" "${nfm[@]}" -p "$PROMPT" -n "$N" -t 2 \
           --logits-all-out "$d/all.f32" --tokens-out "$d/ids_all.txt" > /dev/null 2> "$d/all.err"; then
        rows=$(( $(stat -c %s "$d/all.f32") / 4 / $(jg "$g.n_vocab") ))
        [ "$(sha256sum "$d/all.f32" | cut -d' ' -f1)" = "$(jg "$g.all_logits.sha256")" ] \
          && ok "$tag: every prompt position + every step ($rows rows) byte-identical" \
          || bad "$tag: all-position logits differ ($rows rows, oracle $(jg "$g.all_logits.rows"))"
        [ "$(cat "$d/ids_all.txt")" = "$(jg "$g.all_logits.tokens | map(tostring) | join(\" \")")" ] \
          && ok "$tag: token ids of the all-outputs run" || bad "$tag: token ids of the all-outputs run differ"
        rm -f "$d/all.f32"
      else
        bad "$tag: ck-decode --logits-all-out failed: $(tail -1 "$d/all.err")"
      fi
    fi
    if [[ ",$WHAT," == *",bridge,"* ]]; then
      tag="frames $preset $c ck-bridge"
      if "$B/ck-bridge" --mmproj "$d/models/$preset-mmproj-f32.gguf" --model "$d/models/$preset-text-f16.gguf" \
           "${bargs[@]}" "${nfm[@]}" -p "$PROMPT" -n "$N" -t 2 --cache-dir "$d/cache" --report "$d/report.json" \
           > /dev/null 2> "$d/bridge.err"; then
        [ "$(jq -c .output.token_ids "$d/report.json")" = "$(jg -c "$g.threads[\"2\"].tokens")" ] \
          && ok "$tag: token ids" || bad "$tag: token ids differ"
        [ "$(jq '[.prefix[] | .frames] | add' "$d/report.json")" = "$(jg "${#IMGS[@]} + ([.case.cases.$c.videos[]? as \$v | .videos[\$v].n_frames] | add // 0)")" ] && \
        [ "$(jq '.prefix | length' "$d/report.json")" = "$(jg "[$g.chunks[] | select(.type == \"image\")] | length")" ] \
          && ok "$tag: report: one prefix per oracle image chunk, frames sum to the images + video frames" \
          || bad "$tag: report prefixes/frames"
      else
        bad "$tag: ck-bridge failed: $(tail -1 "$d/bridge.err")"
      fi
    fi
  done
done
[ "$fails" -eq 0 ] && echo "frames: all equal" || echo "frames: $fails difference(s)"
[ "$fails" -eq 0 ]
