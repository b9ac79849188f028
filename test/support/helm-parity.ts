// What the real Helm makes of values, read without any YAML parser of ours. A copy of the
// provision-configs fixture chart gets the chart's own Secret and ConfigMap templates as
// named templates, and a probe template that, for the release's values and for every text of
// a corpus read as a values file (fromYaml is the same sigs.k8s.io/yaml.Unmarshal that
// `helm -f` uses), prints as JSON: the values Helm holds, the two objects as the API server
// receives them (rendered, trimmed and given back one final newline as Helm splits and joins
// manifests, read back with sigs.k8s.io/yaml) and what `toYaml` prints for each value.
// One `helm template` call renders everything.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { HELM_BINARY } from "./helm";

export const FIXTURE_CHART = path.resolve(__dirname, "../fixtures/provision-configs-chart");

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A rendered object as JSON; `data`/`stringData` are null when the template rendered none. */
export interface RenderedObject {
    kind: string;
    type?: string;
    metadata: { name: string };
    data?: Record<string, Json> | null;
    stringData?: Record<string, Json> | null;
}

/** What Helm made of one set of values. `values.Error` is set when Helm could not read them. */
export interface HelmReading {
    name: string;
    values: { [key: string]: Json };
    secret: RenderedObject;
    configMap: RenderedObject;
    /** `toYaml` of each value of the Secret's and the ConfigMap's mapping. */
    toYaml: { secret: Record<string, string>; configKeys: Record<string, string> };
    /** The release's rclone-config Secret (not rendered for corpus files). */
    rcloneConfig?: RenderedObject;
}

/** Between two files of the corpus, in the one file the chart carries (one file: the chart loads fast). */
const SEPARATOR = "@@parity-corpus-split@@";

const PROBE = `{{- /* Test only (test/support/helm-parity.ts): JSON, so that no YAML parser of the tests reads Helm's output;
in base64, because a NEL in a value would end the comment line for Helm's own YAML. */ -}}
{{- define "parity.probe" }}
{{- $secret := include "parity.namespace-secret" (dict "Values" (dict "secret" .secret) "Release" .Release) | trim | printf "%s\\n" | fromYaml }}
{{- $configMap := include "parity.namespace-configmap" (dict "Values" (dict "configKeys" .configKeys) "Release" .Release) | trim | printf "%s\\n" | fromYaml }}
{{- $toYaml := dict "secret" dict "configKeys" dict }}
{{- if kindIs "map" .secret }}{{ range $key, $value := .secret }}{{ $_ := set $toYaml.secret $key (toYaml $value) }}{{ end }}{{ end }}
{{- if kindIs "map" .configKeys }}{{ range $key, $value := .configKeys }}{{ $_ := set $toYaml.configKeys $key (toYaml $value) }}{{ end }}{{ end }}
{{- $reading := dict "name" .name "values" .values "secret" $secret "configMap" $configMap "toYaml" $toYaml }}
{{- if .rcloneConfig }}{{ $_ := set $reading "rcloneConfig" .rcloneConfig }}{{ end }}
# PARITY {{ $reading | toJson | b64enc }}
{{- end }}
{{- $rcloneConfig := include "parity.rclone-config-secret" . | trim | printf "%s\\n" | fromYaml }}
{{- include "parity.probe" (dict "name" "release" "values" .Values "secret" .Values.secret "configKeys" .Values.configKeys "rcloneConfig" $rcloneConfig "Release" .Release) }}
{{- range $i, $text := splitList "${SEPARATOR}" (.Files.Get "corpus.txt") }}
{{- $values := fromYaml $text }}
{{- include "parity.probe" (dict "name" (printf "%d" $i) "values" $values "secret" $values.secret "configKeys" $values.secret "Release" $.Release) }}
{{- end }}
`;

/**
 * Copies the fixture chart into `dir` with the probe and the corpus (texts of values files,
 * each read as `helm -f` reads a file; its `secret` mapping feeds both the Secret and the
 * ConfigMap template). Returns the chart. Readings of the corpus are named by index.
 */
export function parityChart(dir: string, corpus: readonly string[] = []): string {
    const chart = path.join(dir, "provision-configs");
    fs.cpSync(FIXTURE_CHART, chart, { recursive: true });
    // The chart's own templates, verbatim, as named templates the probe can include.
    const defines = ["namespace-secret", "namespace-configmap", "rclone-config-secret"].map(
        t =>
            `{{ define "parity.${t}" }}${fs.readFileSync(path.join(chart, "templates", `${t}.yaml`), "utf8")}{{ end }}`,
    );
    fs.writeFileSync(path.join(chart, "templates", "_parity.tpl"), defines.join(""));
    fs.writeFileSync(path.join(chart, "templates", "parity-probe.yaml"), PROBE);
    if (corpus.some(text => text.includes(SEPARATOR))) throw new Error("a corpus text holds the separator");
    fs.writeFileSync(path.join(chart, "corpus.txt"), corpus.length > 0 ? corpus.join(SEPARATOR) : "");
    return chart;
}

/** Runs `helm template` once on the chart; returns its output. */
export function helmTemplate(chart: string, namespace: string, valuesFiles: readonly string[] = []): string {
    return execFileSync(
        HELM_BINARY,
        ["template", "provision-configs", chart, "--namespace", namespace, ...valuesFiles.flatMap(f => ["-f", f])],
        { encoding: "utf8", maxBuffer: 1 << 30 },
    );
}

/** The probe's readings in Helm's output, by name (`release`, or the index of a corpus text). */
export function helmReadings(output: string): Map<string, HelmReading> {
    const readings = new Map<string, HelmReading>();
    for (const line of output.split("\n")) {
        if (line.startsWith("# PARITY ")) {
            const json = Buffer.from(line.slice("# PARITY ".length), "base64").toString("utf8");
            const reading = JSON.parse(json) as HelmReading;
            readings.set(reading.name, reading);
        }
    }
    return readings;
}

/**
 * The strings the API server stores for a rendered Secret (stringData) or ConfigMap (data):
 * a string as rendered, any other value (which the chart cannot deploy) as the text `toYaml`
 * prints for it: the rule ProvisionConfigs documents.
 */
export function expectedData(reading: HelmReading, kind: "Secret" | "ConfigMap"): Record<string, string> {
    const object = kind === "Secret" ? reading.secret : reading.configMap;
    const rendered = (kind === "Secret" ? object.stringData : object.data) ?? {};
    const printed = kind === "Secret" ? reading.toYaml.secret : reading.toYaml.configKeys;
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(rendered)) {
        Object.defineProperty(out, key, {
            value: typeof value === "string" ? value : printed[key],
            enumerable: true,
        });
    }
    return out;
}
