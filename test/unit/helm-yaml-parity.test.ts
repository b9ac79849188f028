// ProvisionConfigs against the real Helm, over a generated corpus of YAML forms
// (test/support/yaml-corpus.ts). The truth: the probe of test/support/helm-parity.ts, one
// `helm template` that reads every text as `helm -f` reads a file and renders it through the
// chart's own Secret and ConfigMap templates. Ours: what ProvisionConfigs does with each file
// (checkValuesFile, then renderWithHelm), batched into one helm call. Every mismatch is listed.
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { HelmJob, HelmResult, jsonProblem, renderWithHelm } from "../../sdk/helm-values";
import { checkValuesFile, isMapping, ValuesFileError } from "../../sdk/values";
import { tempDir } from "../support/fixture";
import { expectedData, helmReadings, HelmReading, helmTemplate, parityChart } from "../support/helm-parity";
import { CorpusDoc, yamlCorpus } from "../support/yaml-corpus";

const corpus = yamlCorpus();
let readings: Map<string, HelmReading>;
/** Per doc and kind: our refusal before helm, or what renderWithHelm gave. */
const ours = new Map<string, { refused: string } | HelmResult>();

beforeAll(() => {
    const dir = tempDir();
    readings = helmReadings(
        helmTemplate(
            parityChart(
                dir,
                corpus.map(doc => doc.text),
            ),
            "parity",
        ),
    );
    // ProvisionConfigs' own steps, on files (by path) and maps (on stdin), in one helm call.
    const jobs: (HelmJob & { id: string })[] = [];
    corpus.forEach((doc, i) => {
        for (const kind of ["Secret", "ConfigMap"] as const) {
            const id = `${i}/${kind}`;
            if (doc.program !== undefined) {
                const notData = jsonProblem(doc.program, "");
                if (notData !== undefined) ours.set(id, { refused: notData });
                else jobs.push({ id, kind, key: false, keyRequired: false, source: { map: doc.program } });
                continue;
            }
            const file = path.join(dir, `doc ${i}.yaml`);
            fs.writeFileSync(file, doc.text);
            try {
                checkValuesFile(file);
                jobs.push({ id, kind, key: "secret", keyRequired: true, source: { file } });
            } catch (err) {
                if (!(err instanceof ValuesFileError)) throw err;
                ours.set(id, { refused: err.message });
            }
        }
    });
    renderWithHelm("helm", jobs, "parity").forEach((result, i) => ours.set(jobs[i].id, result));
});

/** Why ProvisionConfigs may refuse a file although Helm renders it. */
function refusalAllowed(doc: CorpusDoc, helm: HelmReading): boolean {
    if (doc.mayRefuse === "several documents") return true;
    // The whole-file rule is ProvisionConfigs' own (tested in provision-configs.test.ts).
    if (!("secret" in helm.values)) return true;
    const secret = helm.values.secret;
    return doc.mayRefuse === "duplicate keys" && isMapping(secret) && Object.keys(secret).length < 2;
}

/** True when the chart cannot deploy this mapping: not a mapping, or its object does not read back. */
function chartCannotDeploy(helm: HelmReading, kind: "Secret" | "ConfigMap"): boolean {
    const object = kind === "Secret" ? helm.secret : helm.configMap;
    return helm.values.Error !== undefined || !isMapping(helm.values.secret ?? {}) || "Error" in object;
}

describe("ProvisionConfigs against the real Helm, over a generated corpus", () => {
    it("Helm rendered every file of the corpus, and ProvisionConfigs every one, each in one call", () => {
        expect(corpus.length).toBeGreaterThan(3000);
        expect(readings.size).toBe(corpus.length + 1);
        expect(ours.size).toBe(corpus.length * 2);
    });

    it("gives every value byte for byte as the chart's Secret and ConfigMap, or refuses what the chart cannot deploy", () => {
        const mismatches: string[] = [];
        corpus.forEach((doc, i) => {
            const helm = readings.get(String(i))!;
            for (const kind of ["Secret", "ConfigMap"] as const) {
                const result = ours.get(`${i}/${kind}`)!;
                const where = `${i} ${kind} (${doc.form})`;
                if ("refused" in result || "problems" in result) {
                    const why = "refused" in result ? result.refused : result.problems.join("; ");
                    if (
                        !chartCannotDeploy(helm, kind) &&
                        !refusalAllowed(doc, helm) &&
                        !/Secret\/ConfigMap key/.test(why)
                    ) {
                        mismatches.push(`${where}: refused, the chart deploys it: ${why}`);
                    }
                    continue;
                }
                if (chartCannotDeploy(helm, kind)) {
                    mismatches.push(`${where}: accepted, the chart cannot deploy it`);
                    continue;
                }
                const want = expectedData(helm, kind);
                if (JSON.stringify(result.data) !== JSON.stringify(want)) {
                    mismatches.push(`${where}: ours ${JSON.stringify(result.data)}, chart ${JSON.stringify(want)}`);
                }
            }
        });
        expect(mismatches, `${mismatches.length} differ`).toEqual([]);
    });
});
