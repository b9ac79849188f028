// A generated corpus of values files: scalar texts (YAML 1.1 and 1.2 booleans and nulls,
// Go's integer forms, floats, base-60 numbers, timestamps, indicators, whitespace, line
// breaks, Unicode) crossed with the ways to write them (plain, quoted, escaped, block
// scalars and their chomping), the places they stand (value, key, nested, list item, alias,
// flow collection) and tags; plus keys, merges and anchors, document-level forms, and maps
// given in the program. helm-yaml-parity.test.ts renders it all with one `helm template`.
import fc from "fast-check";

export interface CorpusDoc {
    /** The file name in the chart's corpus/ folder. */
    name: string;
    /** The values file. */
    text: string;
    /** What it exercises, for the mismatch report. */
    form: string;
    /**
     * A map given in the program that this file encodes, when the doc stands for one: it is
     * rendered directly, not read from the file.
     */
    program?: Record<string, unknown>;
    /**
     * Why ProvisionConfigs may refuse this file although Helm reads it: keys written twice
     * (Helm silently keeps one), or several documents (Helm silently reads the first).
     */
    mayRefuse?: "duplicate keys" | "several documents";
}

const LONG_WORDS = Array.from({ length: 14 }, (_, i) => `word${i}`).join(" ");
const LONG_SPACES = Array.from({ length: 12 }, (_, i) => `w${i}`).join("  ");

/** Scalar texts, by family. */
export const TEXTS: Record<string, readonly string[]> = {
    booleans: ["y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"].concat(
        ["true", "True", "TRUE", "false", "False", "FALSE", "tRUE", "yEs", "oN"],
    ),
    nulls: ["~", "null", "Null", "NULL", "nUll", ""],
    ints: ["0", "-0", "+0", "42", "-42", "+42", "007", "08", "09", "010", "0001", "0o17", "0O17", "-0o17", "0o8"]
        .concat(["0x1F", "0X1f", "-0x1F", "+0x1F", "0x", "0xG", "0b101", "-0b101", "0B11", "0b2", "1_000", "1__0"])
        .concat(["_1000", "1000_", "0x_1F", "9223372036854775807", "9223372036854775808", "-9223372036854775808"])
        .concat(["-9223372036854775809", "18446744073709551615", "18446744073709551616", "9007199254740993"]),
    floats: ["1.5", "-1.5", "+1.5", "1.", "-1.", ".5", "-.5", "+.5", "1e3", "1E3", "1e+3", "1e-3", "1.5e10", "1.0"]
        .concat(["0.1", "1e21", "1e20", "1e400", "-1e400", "1e-400", "6.02e23", "1_000.5", ".5_5", "._5", ".5_"])
        .concat([".5e1_0", "1.5e1_0", "0x1p3", "1234567.5", "0.00001", "0.0001", "123456.5", "12345678.5"])
        .concat(["3.14159265358979323846", "1e", "1e+", ".e3", "1.2.3", "0.1e-6", ".", "-.", "+"]),
    specialFloats: [".inf", ".Inf", ".INF", "+.inf", "-.inf", "-.Inf", ".nan", ".NaN", ".NAN", "inf", "-inf"].concat([
        "nan",
        "NaN",
        "Infinity",
        ".iNf",
    ]),
    sexagesimal: ["03:30", "3:30", "1:30:00", "190:20:30", "-1:30", "+1:30", "1:30.5", "12:60", "1_0:30"].concat([
        "1:2:3:4",
        "0:0",
        "24:00",
        "1:30:00.000",
    ]),
    timestamps: ["2025-01-01", "2025-1-1", "2025-01-01T00:00:00Z", "2025-01-01t00:00:00Z", "2025-01-01 00:00:00"]
        .concat(["2025-01-01   10:00:00", "2025-01-01T00:00:00.123456789+02:00", "2025-01-01T00:00:00,5Z"])
        .concat(["2001-12-14 21:59:43.10 -5", "2001-12-14t21:59:43.10-05:00", "2025-13-01", "2025-02-29"])
        .concat(["2024-02-29", "2025-01-01T24:00:00Z", "2025-01-01T00:00:00+25:00", "20250101", "2025-01"])
        .concat(["2025-01-01T00:00:00", "2025-01-01 00:00:00Z", "12025-01-01", "2025-01-01T1:2:3Z"]),
    indicators: ["<<", "=", "- dash", "-", "--", "---", "--- x", "...", "#hash", "a #b", "a#b", "with: colon"]
        .concat(["key:", ": x", ":x", "?", "? x", "?x", "[a]", "{a}", "a,b", "*a", "&a", "!a", "|", "|x", ">"])
        .concat(["'", '"', "%", "@", "`", "a'b", 'a"b', "a\\b", "a: b: c", "a]", "a}", "-1-", "a:b"]),
    whitespace: [" lead", "trail ", " both ", "a  b", "\ttab", "a\tb", "tab\t", " "],
    multiline: ["a\nb", "a\n", "a\n\n", "\na", "\n", "\n\n", " a\nb", "a\n b", "a \nb", "a\n\n\nb", "a\n \nb"].concat([
        "a\r\nb",
        "a\rb",
        "line one\nline two\n",
        "  indented\nblock",
        "a\tb\nc",
        "x\n ",
        "a\n\n ",
    ]),
    unicode: ["é", "日本", "😀", "a\u00A0b", "\u00A0", "a\u0085b", "a\u2028b", "a\u2029b", "\uFEFFbom"].concat([
        "a\uFEFFb",
        "\uFFFD",
        "a\u0001b",
        "\u007F",
        "a\u0080b",
        "\u0000",
        "\u001B[0m",
        "\uE000",
    ]),
    // Lines fold after column 80; keys over 128 bytes are written as `? key`.
    long: [LONG_WORDS, LONG_SPACES, "x".repeat(100), `${"y".repeat(85)} z`, `${LONG_WORDS}\n${LONG_WORDS}`].concat([
        "é".repeat(70),
        `${LONG_WORDS} ${LONG_WORDS} ${LONG_WORDS}`,
        `'${LONG_WORDS}' "${LONG_SPACES}"`,
    ]),
};

export const ALL_TEXTS: readonly string[] = Object.values(TEXTS).flat();

/** A YAML double-quoted scalar holding exactly `s` (every non-printable as an escape). */
export function yamlDoubleQuoted(s: string): string {
    let out = '"';
    for (const c of s) {
        const cp = c.codePointAt(0)!;
        if (c === '"' || c === "\\") out += `\\${c}`;
        else if (cp >= 0x20 && cp <= 0x7e) out += c;
        else if (cp <= 0xff) out += `\\x${cp.toString(16).padStart(2, "0")}`;
        else if (cp <= 0xffff) out += `\\u${cp.toString(16).padStart(4, "0")}`;
        else out += `\\U${cp.toString(16).padStart(8, "0")}`;
    }
    return `${out}"`;
}

/** Can `s` appear raw in a file without changing the file's structure? */
const singleLine = (s: string) => !/[\n\r]/.test(s);

/**
 * The ways to write a text at indentation `indent` (the column of its key). A style may
 * give a text that is not valid YAML, or that reads as another value: that is the point.
 */
const STYLES: Record<string, (s: string, indent: number) => string | undefined> = {
    plain: s => (singleLine(s) ? s : undefined),
    single: (s, indent) => `'${s.replace(/'/g, "''").replace(/\n/g, `\n${" ".repeat(indent + 2)}`)}'`,
    double: s => yamlDoubleQuoted(s),
    doubleRaw: (s, indent) => `"${s.replace(/[\\"]/g, "\\$&").replace(/\n/g, `\n${" ".repeat(indent + 2)}`)}"`,
    ...Object.fromEntries(
        ["|", "|-", "|+", "|2", ">", ">-", ">+"].map(header => [
            `block${header}`,
            (s: string, indent: number) =>
                `${header}\n${s
                    .split("\n")
                    .map(line => (line === "" ? "" : `${" ".repeat(indent + 2)}${line}`))
                    .join("\n")}`,
        ]),
    ),
};

const INLINE_STYLES = ["plain", "single", "double"];

/** A values file whose `secret` mapping holds `entries` (source lines at indentation 2). */
const secretDoc = (lines: string[]) => `secret:\n${lines.join("\n")}\n`;

/** One text written one way, in the places a value stands; and as a key. */
function scalarDocs(text: string, style: string): CorpusDoc[] {
    const write = STYLES[style];
    const at = (indent: number) => write(text, indent);
    const docs: CorpusDoc[] = [];
    const value = at(2);
    if (value !== undefined) {
        const nested = at(4);
        const inFlow = INLINE_STYLES.includes(style) && singleLine(value) ? [`  flow: [${value}, {x: ${value}}]`] : [];
        docs.push({
            name: "",
            form: `${style} ${JSON.stringify(text)} as a value, nested, in a list, through an alias, in flow`,
            text: secretDoc([
                `  value: ${value}`,
                `  nested:`,
                `    x: ${nested}`,
                `  list:`,
                `  - ${at(2)}`,
                `  anchored: &anchor ${value}`,
                `  alias: *anchor`,
                ...inFlow,
            ]),
        });
    }
    if (INLINE_STYLES.includes(style) && value !== undefined && singleLine(value)) {
        docs.push({ name: "", form: `${style} ${JSON.stringify(text)} as a key`, text: secretDoc([`  ${value}: v`]) });
    }
    if (value !== undefined) {
        docs.push({
            name: "",
            form: `${style} ${JSON.stringify(text)} as an explicit key`,
            text: secretDoc([`  ? ${value}`, `  : v`]),
        });
    }
    return docs;
}

const TAGS = ["!!str", "!!int", "!!float", "!!bool", "!!null", "!!timestamp", "!!binary", "!", "!custom"].concat([
    "!<tag:yaml.org,2002:str>",
    "!!merge",
    "!!map",
    "!!seq",
]);

/** Texts that exercise tags: one of each family, and base64 for `!!binary`. */
const TAGGED_TEXTS = ["yes", "42", "0x1F", "1.5", "1e400", ".inf", "~", "", "03:30", "2025-01-01", "2025-13-01"]
    .concat(["hello", "aGVsbG8=", "aGVsbG8", "aGVs\nbG8=", "/w==", "4oI=", "7aCA", "wMA=", "8J+YgA==", "<<"])
    .concat(["18446744073709551615", "-0"]);

function taggedDocs(): CorpusDoc[] {
    const docs: CorpusDoc[] = [];
    for (const tag of TAGS) {
        for (const text of TAGGED_TEXTS) {
            for (const style of ["plain", "double", "block|"]) {
                const written = STYLES[style](text, 2);
                if (written === undefined) continue;
                docs.push({
                    name: "",
                    form: `${tag} ${style} ${JSON.stringify(text)}`,
                    text: secretDoc([
                        `  value: ${tag} ${written}`,
                        `  nested:`,
                        `    x: ${tag} ${STYLES[style](text, 4)}`,
                    ]),
                });
            }
        }
    }
    return docs;
}

/** Keys: forms that read as other types, invalid data keys, and pairs that may collide. */
const KEYS = ["k", "on", "y", "Yes", "true", '"true"', "1", "01", "0x10", "1.5", "1.50", "1e3", "-0.0", "0.0"]
    .concat([".inf", ".nan", "~", '"~"', "null", "2025-01-01", "03:30", '"<<"', "__proto__", "a b", "a/b", "..", "."])
    .concat(["é", "18446744073709551615", "9223372036854775808", "0.1234567891", "123456789.0", "16777217.0"])
    .concat([`${"k".repeat(129)}`, `${"k".repeat(253)}`, `${"k".repeat(254)}`, "!!binary aGk=", "? [a]", "? {a: 1}"]);

const PAIR_KEYS = ["on", "true", '"true"', "yes", "1", "01", "1.0", '"1"', "0x1", "k", '"k"', "!!str k"];

function keyDocs(): CorpusDoc[] {
    const docs: CorpusDoc[] = KEYS.map(key => ({
        name: "",
        form: `key ${key}`,
        text: key.startsWith("? ") ? secretDoc([`  ${key}`, `  : v`]) : secretDoc([`  ${key}: v`]),
    }));
    for (const a of PAIR_KEYS) {
        for (const b of PAIR_KEYS) {
            docs.push({
                name: "",
                form: `keys ${a} and ${b}`,
                text: secretDoc([`  ${a}: first`, `  ${b}: second`]),
                mayRefuse: "duplicate keys",
            });
        }
    }
    return docs;
}

/** Merge keys: every order of explicit keys and merges, of maps, aliases and lists of them. */
function mergeDocs(): CorpusDoc[] {
    const base = ["base1: &b1 {a: from-b1, b: from-b1}", "base2: &b2 {a: from-b2, c: from-b2}"];
    const merges = ["<<: *b1", "<<: [*b1, *b2]", "<<: [*b2, *b1]", "<<: {a: inline}", "<<: *b2", '"<<": *b1'].concat([
        "!!merge <<: *b1",
        "<<: [*b1, {a: inline}]",
        "<<: 5",
        "<<: [5]",
        "<<: ~",
        "<<: *s",
        "<<: [*s]",
    ]);
    const docs: CorpusDoc[] = [];
    for (const merge of merges) {
        for (const order of ["before", "after", "between", "alone"]) {
            const lines =
                order === "before"
                    ? ["a: explicit", merge]
                    : order === "after"
                      ? [merge, "a: explicit"]
                      : order === "between"
                        ? ["a: explicit", merge, "b: explicit"]
                        : [merge];
            docs.push({
                name: "",
                form: `merge ${merge} ${order} explicit keys`,
                text: `s: &s scalar\n${base.join("\n")}\nsecret:\n${lines.map(l => `  ${l}`).join("\n")}\n`,
            });
        }
    }
    // Nested: a merge inside a merged mapping, a merge inside a list item.
    docs.push({
        name: "",
        form: "merge of a mapping that merges",
        text: "x: &x {a: 1}\ny: &y {<<: *x, b: 2}\nsecret:\n  <<: *y\n  c: 3\n",
    });
    docs.push({
        name: "",
        form: "merge inside a nested value",
        text: "x: &x {a: 1}\nsecret:\n  n:\n    <<: *x\n    b: 2\n  l:\n  - <<: *x\n",
    });
    return docs;
}

/** Anchors, aliases, documents, directives, comments and line endings. */
function structureDocs(): CorpusDoc[] {
    const texts: Array<[string, string]> = [
        ["anchor redefined", "secret:\n  a: &x one\n  b: *x\n  c: &x two\n  d: *x\n"],
        ["alias of a mapping", "m: &m {x: 1}\nsecret:\n  a: *m\n"],
        ["alias of a list", "l: &l [1, two]\nsecret:\n  a: *l\n"],
        ["recursive alias", "secret:\n  a: &x [*x]\n"],
        ["unknown alias", "secret:\n  a: *nope\n"],
        ["alias as a key", "k: &k key\nsecret:\n  *k : v\n"],
        ["anchored key", "secret:\n  &k key: v\n  other: *k\n"],
        ["empty file", ""],
        ["comments only", "# nothing\n"],
        ["document marker", "---\nsecret:\n  a: 1\n"],
        ["document end marker", "secret:\n  a: 1\n...\n"],
        ["two documents", "secret:\n  a: 1\n---\nsecret:\n  b: 2\n"],
        ["YAML 1.1 directive", "%YAML 1.1\n---\nsecret:\n  a: yes\n"],
        ["YAML 1.2 directive", "%YAML 1.2\n---\nsecret:\n  a: yes\n"],
        ["TAG directive", "%TAG !e! tag:yaml.org,2002:\n---\nsecret:\n  a: !e!str 1\n  b: !e!int '2'\n"],
        ["CRLF line endings", "secret:\r\n  a: one\r\n  b: |\r\n    x\r\n    y\r\n"],
        ["CR line endings", "secret:\r  a: one\r  b: two\r"],
        ["byte-order mark", "\uFEFFsecret:\n  a: one\n"],
        ["tab indentation", "secret:\n\ta: one\n"],
        ["tab after colon", "secret:\n  a:\tone\n"],
        ["comment after value", "secret:\n  a: one # comment\n  b: one#not\n"],
        ["null top level", "~\n"],
        ["scalar top level", "just text\n"],
        ["list top level", "- a\n"],
        ["secret null", "secret:\n"],
        ["secret empty mapping", "secret: {}\n"],
        ["flow mapping colon", "secret: {a:b}\n"],
        ["flow mapping question mark", "secret: {a?b: c}\n"],
        ["flow sequence in flow", "secret: {a: [b, [c]], d: {}}\n"],
        ["escaped slash", 'secret:\n  a: "a\\/b"\n'],
        ["escaped quote", 'secret:\n  a: "it\\\'s"\n'],
        ["escaped tab character", 'secret:\n  a: "a\\\tb"\n'],
        ["escaped line break", 'secret:\n  a: "one \\\n    two"\n'],
        ["surrogate escape", 'secret:\n  a: "\\ud83d\\ude00"\n'],
        ["long escape", 'secret:\n  a: "\\U0001F600"\n'],
        ["multi-line plain", "secret:\n  a: one\n    two\n\n    three\n"],
        ["block scalar more-indented first line", "secret:\n  a: |\n      deep\n    shallow\n"],
        ["block scalar keep at end", "secret:\n  a: |+\n    x\n\n"],
        ["block scalar indicator with keep", "secret:\n  a: |1+\n    x\n"],
        ["folded more-indented", "secret:\n  a: >\n    one\n      two\n    three\n"],
        ["key with trailing space", "secret:\n  'a ': v\n"],
        ["very long key", `secret:\n  ${"k".repeat(1100)}: v\n`],
        ["deep nesting", `secret:\n  a: ${"[".repeat(40)}x${"]".repeat(40)}\n`],
        ["sequence of mappings", "secret:\n  a:\n  - x: 1\n    y: [1, 2]\n  - {}\n  - []\n  - - nested\n"],
        ["empty values", "secret:\n  a:\n  b: ''\n  c: []\n  d: {}\n  e: [~, '']\n"],
        ["set", "secret:\n  a: !!set {x, y}\n"],
        ["omap", "secret:\n  a: !!omap [x: 1, y: 2]\n"],
        ["complex key mapping", "secret:\n  ? {a: 1}\n  : v\n"],
    ];
    return texts.map(([form, text]) => ({
        name: "",
        form,
        text,
        ...(form === "two documents" ? { mayRefuse: "several documents" as const } : {}),
    }));
}

// ---- maps given in the program ----

/** A YAML flow encoding of JSON data that Helm reads back exactly. */
export function yamlFlow(value: unknown): string {
    if (value === null) return "null";
    if (typeof value === "string") return yamlDoubleQuoted(value);
    if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
    if (typeof value === "boolean") return String(value);
    if (Array.isArray(value)) return `[${value.map(yamlFlow).join(", ")}]`;
    return `{${Object.entries(value as object)
        .map(([k, v]) => `${yamlDoubleQuoted(k)}: ${yamlFlow(v)}`)
        .join(", ")}}`;
}

const NUMBERS = [
    0,
    -0,
    1,
    -1,
    0.1,
    1.5,
    -2.5,
    1e21,
    1e20,
    1e-7,
    1.5e-7,
    123456.5,
    1234567.5,
    2 ** 53,
    2 ** 53 + 2,
].concat([2 ** 63, 2 ** 64, 1e300, 5e-324, Number("12345678901234567890"), -(2 ** 63), 0.1 + 0.2, 100, 1e6, 16777217]);

const SORT_KEYS = [
    "a10",
    "a9",
    "a1",
    "b",
    "B",
    "_",
    "1",
    "10",
    "2",
    "a01",
    "a001",
    "é",
    "Z",
    "z",
    "-",
    "a-1",
    "a_1",
].concat(["", " ", "x y", "٣", "a٣", "true", "~", "null", "1.5", "a0", "a00", "0", "00"]);

function programMaps(): Array<[string, Record<string, unknown>]> {
    const maps: Array<[string, Record<string, unknown>]> = [];
    for (const text of ALL_TEXTS) {
        maps.push([
            `program string ${JSON.stringify(text)}, at the top and nested`,
            { v: text, n: { x: text, l: [text, [text]], [text]: "as a key" } },
        ]);
    }
    maps.push(["program numbers", Object.fromEntries(NUMBERS.map((n, i) => [`n${i}`, n]))]);
    maps.push(["program nested numbers", { n: NUMBERS, m: Object.fromEntries(NUMBERS.map((n, i) => [`k${i}`, n])) }]);
    maps.push(["program booleans and null", { t: true, f: false, z: null, n: { t: true, z: null } }]);
    maps.push(["program key order", { n: Object.fromEntries(SORT_KEYS.map((k, i) => [k, i])) }]);
    maps.push(["program empty collections", { m: {}, l: [], n: { m: {}, l: [[], {}] } }]);
    maps.push(["program __proto__ key", JSON.parse('{"__proto__": "a", "n": {"__proto__": 1}}')]);
    return maps;
}

/** Random nested data (fixed seed: the same values every run). */
function randomMaps(): Array<[string, Record<string, unknown>]> {
    const text = fc.string({
        unit: fc.constantFrom(...ALL_TEXTS.join("").replace(/\r/g, ""), " ", "\n", ":", "#"),
        maxLength: 12,
    });
    const scalar = fc.oneof(
        text,
        fc.constantFrom(...ALL_TEXTS),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
    );
    const { tree } = fc.letrec(tie => ({
        tree: fc.oneof({ depthSize: "small" }, scalar, tie("list"), tie("map")),
        list: fc.array(tie("tree"), { maxLength: 3 }),
        map: fc.dictionary(text, tie("tree"), { maxKeys: 3 }),
    }));
    return fc
        .sample(fc.dictionary(fc.constantFrom("a", "b", "c", "d"), tree, { maxKeys: 4 }), {
            numRuns: 300,
            seed: 20261201,
        })
        .map((m, i) => [`random program map ${i}`, m as Record<string, unknown>]);
}

function programDocs(): CorpusDoc[] {
    return [...programMaps(), ...randomMaps()].map(([form, program]) => ({
        name: "",
        form,
        program,
        text: `secret: ${yamlFlow(program)}\n`,
    }));
}

/**
 * The styles worth writing a text in: chomping and indentation indicators, and raw line
 * breaks inside quotes, only change anything for texts with line breaks or edge whitespace.
 */
function stylesFor(text: string): string[] {
    const edges = /^\s|\s$|[\n\r\\"]/.test(text);
    return Object.keys(STYLES).filter(
        style => edges || ["plain", "single", "double", "block|", "block>"].includes(style),
    );
}

/** The whole corpus, named 00000.yaml, 00001.yaml, … */
export function yamlCorpus(): CorpusDoc[] {
    const scalars = ALL_TEXTS.flatMap(text => stylesFor(text).flatMap(style => scalarDocs(text, style)));
    const docs = [...scalars, ...taggedDocs(), ...keyDocs(), ...mergeDocs(), ...structureDocs(), ...programDocs()];
    return docs.map((doc, i) => ({ ...doc, name: `${String(i).padStart(5, "0")}.yaml` }));
}
