// PowerShell syntax check for the guest scripts, which cannot run here:
// parses each file with the tree-sitter PowerShell grammar and prints
// FILE:LINE:COL for every syntax error. Exits 1 on errors.
// Needs the npm packages web-tree-sitter and tree-sitter-powershell under
// $PS_PARSER_DIR/node_modules (see selftest.sh).
import { createRequire } from 'module';
import fs from 'fs';
import path from 'path';

const base = process.env.PS_PARSER_DIR || process.cwd();
const require = createRequire(path.join(base, 'node_modules', 'x.js'));
const { Parser, Language } = await import(require.resolve('web-tree-sitter'));
const wasm = path.join(path.dirname(require.resolve('tree-sitter-powershell/package.json')),
	'tree-sitter-powershell.wasm');

await Parser.init();
const parser = new Parser();
parser.setLanguage(await Language.load(wasm));

let errors = 0;
for (const file of process.argv.slice(2)) {
	const tree = parser.parse(fs.readFileSync(file, 'utf8'));
	const walk = (node) => {
		if (node.type === 'ERROR' || node.isMissing) {
			errors++;
			const what = node.isMissing ? `missing ${node.type}` : 'syntax error';
			const text = node.text.slice(0, 60).replace(/\n/g, '\\n');
			console.log(`${file}:${node.startPosition.row + 1}:${node.startPosition.column + 1}: ${what}: ${text}`);
			return;
		}
		for (const child of node.children) walk(child);
	};
	walk(tree.rootNode);
}
process.exit(errors ? 1 : 0);
