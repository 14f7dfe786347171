#!/bin/sh
# Re-create the committed, minified tracker (vinculo/touchpoints/static/touchpoints/vinculo.js) from
# its hand-written source. Run after editing tracker.src.js, then commit both; nothing is built at
# run time. Needs Node.js (npx downloads terser 5 the first time).
set -eu
cd "$(dirname "$0")/../vinculo/touchpoints/static/touchpoints"
npx --yes terser@5 tracker.src.js --compress passes=2 --mangle --comments '/^!/' --output vinculo.js
python3 -c "import gzip,sys; d=open('vinculo.js','rb').read(); print(f'vinculo.js: {len(d)} bytes, {len(gzip.compress(d))} gzipped')"
