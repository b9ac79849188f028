import * as YAML from "yaml";
import { NotRegularFileError, notRegularReason, readRegularFile } from "./regular-file";

/**
 * Values as Helm sees them. Helm reads values files as YAML 1.1 (`yes` is a boolean)
 * and its `toYaml` writes keys sorted, lists unindented: the same choices here keep the
 * native objects identical to what the provision-configs chart renders.
 */
export type Values = Record<string, unknown>;

/** A value file problem, with the file and, when known, the line. */
export class ValuesFileError extends Error {
    constructor(
        readonly file: string,
        readonly detail: string,
        readonly line?: number,
    ) {
        super(`${file}${line !== undefined ? `:${line}` : ""}: ${detail}`);
        this.name = "ValuesFileError";
    }
}

/** Parses a YAML values file the way Helm does; an empty file is an empty mapping. */
export function readValuesFile(file: string): Values {
    let text: string;
    try {
        text = readRegularFile(file, "utf8");
    } catch (err) {
        if (err instanceof NotRegularFileError) {
            throw new ValuesFileError(file, notRegularReason(err.kind));
        }
        throw new ValuesFileError(file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    if (/\.gotmpl$/.test(file) && text.includes("{{")) {
        throw new ValuesFileError(
            file,
            "is a Go template, which only helmfile can render: " +
                "put these values in a plain YAML file or pass them as a map",
        );
    }
    return parseValues(text, file);
}

export function parseValues(text: string, file: string): Values {
    const doc = YAML.parseDocument(text, { version: "1.1", prettyErrors: true, uniqueKeys: true });
    const error = doc.errors[0];
    if (error !== undefined) {
        const line = error.linePos?.[0]?.line;
        throw new ValuesFileError(file, `is not valid YAML: ${error.message.split("\n")[0]}`, line);
    }
    const value = doc.toJS({ maxAliasCount: 1000 }) as unknown;
    if (value === null || value === undefined) {
        return {};
    }
    if (!isMapping(value)) {
        throw new ValuesFileError(file, `must hold a mapping at the top level, found ${describe(value)}`);
    }
    return value;
}

export function isMapping(value: unknown): value is Values {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** What kind of value this is, never the value itself: values files and maps may hold secrets. */
export function describe(value: unknown): string {
    if (value === null) return "null";
    if (Array.isArray(value)) return "a list";
    return typeof value === "object" ? "a mapping" : `a ${typeof value}`;
}

/**
 * One rule for non-string values in `stringData` / `data`: a string stays as it is;
 * anything else becomes the text Helm's `toYaml` prints for it (`5432`, `true`, a
 * nested mapping as block YAML, null as `null`), without the trailing newline.
 */
export function helmString(value: unknown): string {
    if (typeof value === "string") {
        return value;
    }
    return toYaml(value);
}

/**
 * Helm's `toYaml` (go-yaml v2 behind sigs.k8s.io/yaml): keys sorted, sequences at their
 * parent's indentation, no trailing newline. Strings take go-yaml's styles: literal block
 * when multi-line, double quotes when they would read as another type (`"true"`,
 * `"0042"`), single quotes when plain would not parse back, plain otherwise.
 */
export function toYaml(value: unknown): string {
    const doc = new YAML.Document(value, { version: "1.1", sortMapEntries: true });
    YAML.visit(doc, {
        Scalar(_key, node) {
            if (typeof node.value === "string") {
                node.type = goYamlStringStyle(node.value);
            }
        },
    });
    return doc.toString({ indentSeq: false, lineWidth: 0, nullStr: "null" }).replace(/\n$/, "");
}

/** True when the plain text would read back as a boolean, number, null or date in YAML 1.1. */
function readsAsOtherScalar(text: string): boolean {
    const doc = YAML.parseDocument(text, { version: "1.1" });
    return doc.errors.length === 0 && YAML.isScalar(doc.contents) && typeof doc.contents.value !== "string";
}

function goYamlStringStyle(text: string): YAML.Scalar.Type {
    if (text.includes("\n")) {
        return "BLOCK_LITERAL";
    }
    if (text === "" || readsAsOtherScalar(text)) {
        return "QUOTE_DOUBLE";
    }
    const plain = YAML.stringify(text, { version: "1.1", defaultStringType: "PLAIN", lineWidth: 0 });
    return /^["']/.test(plain) ? "QUOTE_SINGLE" : "PLAIN";
}

/** Secret and ConfigMap keys: `[-._a-zA-Z0-9]+`, at most 253 characters. */
const DATA_KEY = /^[-._a-zA-Z0-9]+$/;

export function dataKeyProblem(key: string): string | undefined {
    if (!DATA_KEY.test(key) || key.length > 253 || key === "." || key === "..") {
        return `${JSON.stringify(key)} is not a valid Secret/ConfigMap key (letters, digits, '-', '_' and '.', at most 253 characters)`;
    }
    return undefined;
}

/** Renders a mapping to `stringData` / `data`, or lists every key problem. */
export function renderData(values: Values): { data: Record<string, string>; problems: string[] } {
    const problems: string[] = [];
    const data: Record<string, string> = {};
    for (const [key, value] of Object.entries(values)) {
        const p = dataKeyProblem(key);
        if (p !== undefined) {
            problems.push(p);
            continue;
        }
        data[key] = helmString(value);
    }
    return { data, problems };
}
