// The namespace Secret's and ConfigMap's data, rendered by the user's own helm with the
// provision-configs chart's own templates: "equal to `helm template` of the chart" then holds
// by construction, for every YAML form (YAML 1.1 booleans, octal, base-60, timestamps, tags,
// merge keys…), and no YAML parser of ours decides a value. Our side only runs JSON.parse.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { dataKeyProblem, Values } from "./values";

/** Where a mapping comes from: a values file (read by helm, by path) or a map of the program. */
export type HelmSource = { readonly file: string } | { readonly map: Values };

/** One object to render: its source, and where in the source its mapping is. */
export interface HelmJob {
    readonly source: HelmSource;
    /** Which of the chart's templates renders it. */
    readonly kind: "Secret" | "ConfigMap";
    /** The top-level key holding the mapping; `false`: the whole file. */
    readonly key: string | false;
    /** Without the key, the whole file is taken unless this is set. */
    readonly keyRequired: boolean;
}

/** The rendered data, or the problems (never quoting a value: they may be secrets). */
export type HelmResult = { readonly data: Record<string, string> } | { readonly problems: string[] };

/** helm cannot be run: what needs it and how to do without. */
export class HelmMissingError extends Error {}

// The chart's templates, verbatim (test/fixtures/provision-configs-chart), as named templates.
const SECRET_TEMPLATE = `apiVersion: v1
kind: Secret
type: Opaque
metadata:
  name: {{ .Release.Namespace }}
stringData:
  {{- toYaml .Values.secret | nindent 2 }}
`;
const CONFIGMAP_TEMPLATE = `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Namespace }}
data:
{{ .Values.configKeys | toYaml | indent 2 }}
`;

// For each job: the values as helm holds them (a file through fromYaml, the same
// sigs.k8s.io/yaml.Unmarshal as \`helm -f\`), the mapping picked, the object rendered by the
// chart's template, trimmed and given one final newline as helm splits and joins manifests,
// read back as the API server does (fromYaml), and toYaml of each value for the non-string
// rule. Printed as base64 JSON on a comment line: no YAML parser of ours reads helm's output.
const RENDER = `{{- define "kaptain.Secret" }}${SECRET_TEMPLATE}{{ end }}
{{- define "kaptain.ConfigMap" }}${CONFIGMAP_TEMPLATE}{{ end }}
{{- range $i, $job := .Values.jobs }}
{{- $values := $job.map }}
{{- $out := dict "index" $i }}
{{- if hasKey $job "file" }}
{{- $values = index $.Values.files $job.file | fromYaml }}
{{- if and (eq (len $values) 1) (hasKey $values "Error") }}{{ $_ := set $out "error" $values.Error }}{{ end }}
{{- end }}
{{- $picked := $values }}
{{- if and $job.key (hasKey $values $job.key) }}{{ $picked = index $values $job.key }}{{ $_ := set $out "keyFound" true }}{{ end }}
{{- if kindIs "invalid" $picked }}{{ $picked = dict }}{{ end }}
{{- $_ := set $out "pickedKind" (kindOf $picked) }}
{{- if kindIs "map" $picked }}
{{- $field := ternary "stringData" "data" (eq $job.kind "Secret") }}
{{- $object := include (printf "kaptain.%s" $job.kind) (dict "Values" (dict "secret" $picked "configKeys" $picked) "Release" $.Release) | trim | printf "%s\\n" | fromYaml }}
{{- if hasKey $object "Error" }}{{ $_ := set $out "unreadable" true }}{{ else }}{{ $_ := set $out "data" (index $object $field) }}{{ end }}
{{- $printed := dict }}
{{- range $key, $value := $picked }}{{ $_ := set $printed $key (toYaml $value) }}{{ end }}
{{- $_ := set $out "toYaml" $printed }}
{{- end }}
# KAPTAIN {{ $out | toJson | b64enc }}
{{- end }}
`;

/**
 * The first value of a program's map that JSON (helm's stdin) cannot carry as it is:
 * JSON.stringify would silently turn NaN and Infinity into null and drop undefined.
 */
export function jsonProblem(value: unknown, at: string): string | undefined {
    if (typeof value === "number") {
        return Number.isFinite(value) ? undefined : `\`${at}\` is ${String(value)}, which Helm cannot hold`;
    }
    if (value === null || typeof value === "string" || typeof value === "boolean") return undefined;
    if (Array.isArray(value)) {
        for (const [i, item] of value.entries()) {
            const p = jsonProblem(item, `${at}[${i}]`);
            if (p !== undefined) return p;
        }
        return undefined;
    }
    if (typeof value === "object" && [Object.prototype, null].includes(Object.getPrototypeOf(value) as object)) {
        for (const [key, item] of Object.entries(value)) {
            const p = jsonProblem(item, at === "" ? key : `${at}.${key}`);
            if (p !== undefined) return p;
        }
        return undefined;
    }
    return `\`${at}\` is ${value === undefined ? "undefined" : `a ${typeof value}`}, not data`;
}

/**
 * JSON that go-yaml reads back as the same values: helm reads `-f -` as YAML, where a raw
 * NEL, U+2028 or DEL inside a string is a line break or an error. Every character outside
 * printable ASCII is written as an escape (astral ones as YAML's \\U, since go-yaml does
 * not join JSON's surrogate pairs).
 */
export function yamlSafeJson(value: unknown): string {
    return JSON.stringify(value).replace(/[^\x20-\x7e]/gu, c => {
        const cp = c.codePointAt(0)!;
        return cp > 0xffff ? `\\U${cp.toString(16).padStart(8, "0")}` : `\\u${cp.toString(16).padStart(4, "0")}`;
    });
}

/** What the template prints for one job. */
interface Rendered {
    index: number;
    error?: string;
    keyFound?: boolean;
    pickedKind: string;
    unreadable?: boolean;
    data?: Record<string, unknown> | null;
    toYaml?: Record<string, string>;
}

/** How long one `helm template` of the built-in chart may take (it takes well under a second). */
const HELM_TIMEOUT_MS = 120_000;

/** `--set-file` parses `key=path` lists: a comma or backslash in the path is escaped. */
const setFileArgument = (key: string, file: string) => `${key}=${file.replace(/[\\,]/g, "\\$&")}`;

/**
 * A go-yaml error without what it may quote of the file: go-yaml puts values between
 * backquotes (`cannot decode !!str \`hunter2\` as a !!int`), and a few messages print a Go
 * value (`invalid map key: map[…]{…}`); those keep only their line.
 */
export function yamlErrorSummary(message: string): string {
    const reason = message
        .replace(/^error (converting YAML to JSON|unmarshaling JSON): (while decoding JSON: )?/, "")
        .replace(/^yaml: /, "")
        .replace(/`[^`]*`/g, "`…`");
    // Safe: words and punctuation, and indicators named in single quotes (`expected ',' or ']'`).
    // A backquote left over means a quoted value held one, and its end is still in the text.
    const unquoted = reason.replace(/`…`/g, "");
    if (!unquoted.includes("`") && /^[-+\w !:;,.()/…]*$/.test(unquoted.replace(/'.'/g, ""))) {
        return reason;
    }
    const line = /line (\d+)/.exec(reason);
    return `${line ? `line ${line[1]}: ` : ""}a key or value cannot be read (Helm's message is left out: it quotes the file)`;
}

/** A fromYaml failure, not a file whose only key happens to be `Error`. */
const isParseError = (error: string | undefined) =>
    error !== undefined && /^error (converting YAML to JSON|unmarshaling JSON): /.test(error);

function describeJob(job: HelmJob): string {
    return "file" in job.source ? job.source.file : "the map";
}

/** The problems of one job, or its data: a string as rendered, any other value as toYaml prints it. */
function resultOf(job: HelmJob, rendered: Rendered): HelmResult {
    const where = describeJob(job);
    if (isParseError(rendered.error)) {
        const summary = yamlErrorSummary(rendered.error!);
        const line = /^line (\d+): /.exec(summary);
        return {
            problems: [
                line
                    ? `${where}:${line[1]}: is not valid YAML for Helm: ${summary.slice(line[0].length)}`
                    : `${where} is not valid YAML for Helm: ${summary}`,
            ],
        };
    }
    if (job.key !== false && job.keyRequired && !rendered.keyFound) {
        return { problems: [`${where} has no top-level \`${job.key}\` key`] };
    }
    if (rendered.pickedKind !== "map") {
        const what = rendered.keyFound ? `\`${String(job.key)}\`` : "the top level";
        const found = rendered.pickedKind === "slice" ? "a list" : `a ${rendered.pickedKind} value`;
        return { problems: [`${where}: ${what} must be a mapping, found ${found}`] };
    }
    if (rendered.unreadable) {
        return {
            problems: [
                `${where}: the chart's ${job.kind} template renders YAML that Helm cannot read back, so the chart could not deploy these values either`,
            ],
        };
    }
    const problems: string[] = [];
    const data: Record<string, string> = {};
    for (const [key, value] of Object.entries(rendered.data ?? {})) {
        const keyProblem = dataKeyProblem(key);
        const text = typeof value === "string" ? value : rendered.toYaml?.[key];
        if (keyProblem !== undefined) {
            problems.push(`${where}: ${keyProblem}`);
        } else if (text === undefined) {
            problems.push(`${where}: the chart renders the key ${JSON.stringify(key)} from another key`);
        } else {
            Object.defineProperty(data, key, { value: text, enumerable: true });
        }
    }
    return problems.length > 0 ? { problems } : { data };
}

/**
 * Renders every job with ONE `helm template` of a built-in chart holding the provision-configs
 * chart's templates. Files go by path (`--set-file`: helm reads them, no copy; `-f` would merge
 * them all into one values tree); maps go as JSON on helm's stdin (`-f -`), never in argv or a
 * file. The chart folder holds no value.
 */
export function renderWithHelm(helm: string, jobs: readonly HelmJob[], namespace: string): HelmResult[] {
    const files: string[] = [];
    const jobValues = jobs.map(job => {
        const common = { kind: job.kind, key: job.key === false ? "" : job.key };
        if ("file" in job.source) {
            files.push(job.source.file);
            return { ...common, file: `f${files.length - 1}` };
        }
        return { ...common, map: job.source.map };
    });
    const chart = fs.mkdtempSync(path.join(os.tmpdir(), "kaptain-provision-configs-"));
    try {
        fs.mkdirSync(path.join(chart, "templates"));
        fs.writeFileSync(path.join(chart, "Chart.yaml"), "apiVersion: v2\nname: provision-configs\nversion: 0.0.0\n");
        fs.writeFileSync(path.join(chart, "templates", "render.yaml"), RENDER);
        const args = [
            "template",
            "provision-configs",
            chart,
            "--namespace",
            namespace,
            "-f",
            "-",
            ...files.flatMap((file, i) => ["--set-file", setFileArgument(`files.f${i}`, file)]),
        ];
        const run = spawnSync(helm, args, {
            input: yamlSafeJson({ jobs: jobValues }),
            encoding: "utf8",
            maxBuffer: 1 << 30,
            // A file swapped for a FIFO after it was checked would block helm forever.
            timeout: HELM_TIMEOUT_MS,
            killSignal: "SIGKILL",
        });
        if (run.error !== undefined) {
            const code = (run.error as NodeJS.ErrnoException).code;
            throw new HelmMissingError(
                code === "ENOENT"
                    ? `\`${helm}\` was not found${helm.includes("/") ? "" : " on PATH"}`
                    : code === "ETIMEDOUT"
                      ? `\`${helm} template\` did not finish within ${HELM_TIMEOUT_MS / 1000} s (a values file that never ends, such as a FIFO?)`
                      : `\`${helm}\` cannot be run (${code ?? run.error.message})`,
            );
        }
        if (run.status !== 0) {
            const message = run.stderr.trim().split("\n").pop() ?? "";
            throw new Error(
                `helm template failed (exit ${run.status}): ${yamlErrorSummary(message.replace(/^Error: /, ""))}`,
            );
        }
        const rendered = new Map<number, Rendered>();
        for (const line of run.stdout.split("\n")) {
            if (line.startsWith("# KAPTAIN ")) {
                const r = JSON.parse(
                    Buffer.from(line.slice("# KAPTAIN ".length), "base64").toString("utf8"),
                ) as Rendered;
                rendered.set(r.index, r);
            }
        }
        return jobs.map((job, i) => {
            const r = rendered.get(i);
            if (r === undefined) throw new Error(`helm template printed nothing for ${describeJob(job)}`);
            return resultOf(job, r);
        });
    } finally {
        fs.rmSync(chart, { recursive: true, force: true });
    }
}
