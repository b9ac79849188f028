import * as YAML from "yaml";
import { NotRegularFileError, notRegularReason, readRegularFile } from "./regular-file";

/** A mapping of values: a map given in the program, or what mode detection reads of a file. */
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

/**
 * Reads a values file's text to refuse, before helm reads it, what Helm would read
 * differently from helmfile or silently lose. The values themselves are Helm's to read.
 */
export function checkValuesFile(file: string): void {
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
    const lines = text.split(/\r?\n/);
    // helmfile resolves vals references (ref+vault://…) in a file that holds one; Helm does not.
    const reference = lines.findIndex(line => line.includes("ref+"));
    if (reference >= 0) {
        throw new ValuesFileError(
            file,
            "holds a `ref+` reference, which helmfile resolves and ProvisionConfigs does not: " +
                "resolve it in the program and pass the values as a map (`secret`, `configKeys`)",
            reference + 1,
        );
    }
    const second = secondDocumentLine(lines);
    if (second !== undefined) {
        throw new ValuesFileError(file, "holds several YAML documents; Helm reads only the first: keep one", second);
    }
    duplicateKeyCheck(text, file);
}

const blank = (line: string) => /^\s*(#.*)?$/.test(line);
const MARKER = /^(---|\.\.\.)([ \t]|$)/;

/**
 * The line of a second document's marker when content follows it: a marker at column 0
 * cannot be part of a value. The first document's own `---` (after directives) does not count.
 */
function secondDocumentLine(lines: readonly string[]): number | undefined {
    let i = lines.findIndex(line => !blank(line) && !line.startsWith("%"));
    if (i < 0) return undefined;
    if (/^---([ \t]|$)/.test(lines[i])) i += 1;
    for (; i < lines.length; i++) {
        if (MARKER.test(lines[i]) && lines.slice(i + 1).some(line => !blank(line))) return i + 1;
    }
    return undefined;
}

/**
 * Two keys of one mapping that Helm reads as one: written twice (it keeps the last), or
 * written two ways (`true` and `"true"`, `1` and `"1"`: Helm turns keys into strings and keeps
 * either one, at random). Keys are compared as text after a YAML 1.1 reading, which is Helm's
 * for every key but exotic ones (`03:30` reads here as 210): this decides a refusal, never a value.
 */
function duplicateKeyCheck(text: string, file: string): void {
    const asText = (key: unknown) => (YAML.isScalar(key) ? String(key.value) : key);
    const doc = YAML.parseDocument(text, {
        version: "1.1",
        uniqueKeys: (a, b) => a === b || asText(a) === asText(b),
        prettyErrors: true,
    });
    const duplicate = doc.errors.find(e => e.code === "DUPLICATE_KEY");
    if (duplicate !== undefined) {
        throw new ValuesFileError(
            file,
            'has a key written twice in one mapping (or two keys Helm reads as one, like `true` and "true"); Helm silently keeps only one: remove one',
            duplicate.linePos?.[0]?.line,
        );
    }
}

/** Reads a values file for mode detection only (does it hold `configKeys`?): never for a value. */
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

/** Secret and ConfigMap keys: `[-._a-zA-Z0-9]+`, at most 253 characters. */
const DATA_KEY = /^[-._a-zA-Z0-9]+$/;

export function dataKeyProblem(key: string): string | undefined {
    if (!DATA_KEY.test(key) || key.length > 253 || key === "." || key === "..") {
        return `${JSON.stringify(key)} is not a valid Secret/ConfigMap key (letters, digits, '-', '_' and '.', at most 253 characters)`;
    }
    return undefined;
}
