// A repository whose helmfile "renders" without helmfile: a stand-in binary that prints
// what helmfile v1.8's `build` prints for the e2e fixture's shop namespace.
import * as fs from "node:fs";
import * as path from "node:path";
import { tempDir } from "./fixture";
import { REPO_ROOT, runProgram } from "./program";
import type { EngineOptions } from "../../sdk/synth/engine";

const E2E_FIXTURE = path.join(REPO_ROOT, "test/e2e/fixture");

/** `helmfile build`'s output for a state file at `source`, as helmfile v1.8 prints it. */
export function build(
    source: string,
    releases: string,
    environments = "  default:\n    values:\n      - global.yaml\n",
): string {
    return `---\n#  Source: ${source}\n\nfilepath: helmfile.yaml.gotmpl\nenvironments:\n${environments}releases:\n${releases}`;
}

/** The e2e fixture, and a `helmfile` that prints what helmfile v1.8 builds from it. */
export function renderingRepository(): { repo: string; binary: string } {
    const root = tempDir();
    const repo = path.join(root, "repo");
    fs.cpSync(E2E_FIXTURE, repo, { recursive: true });
    const fleet = Array.from({ length: 20 }, (_, i) =>
        [
            `  - name: fleet-${i}`,
            "    chart: ./charts/fleet",
            `    labels: {action: install, name: fleet-${i}, namespace: shop, chart: fleet}`,
            `    values: [configs/fleet/${i}.yaml]`,
        ].join("\n"),
    );
    const releases = [
        "  - name: embedded-configs",
        `    chart: ${repo}/namespaces/shop/provision-configs`,
        "    labels: {action: config, name: embedded-configs, namespace: shop, chart: provision-configs}",
        "  - name: app",
        "    chart: ./charts/app",
        "    labels: {action: install, name: app, namespace: shop, chart: app}",
        "    values: [configs/app/values.yaml]",
        "  - name: web",
        "    chart: ./charts/web",
        "    labels: {action: install, name: web, namespace: shop, chart: web}",
        "  - name: seed",
        "    chart: ./charts/seed",
        "    labels: {action: provision, name: seed, namespace: shop, chart: seed}",
        ...fleet,
    ].join("\n");
    const output = path.join(root, "build.yaml");
    fs.writeFileSync(output, build(`${repo}/helmfile.yaml.gotmpl`, `${releases}\n`));
    const binary = path.join(root, "helmfile");
    fs.writeFileSync(binary, `#!/bin/sh\n[ "$KAPTAIN_NAMESPACE" = shop ] || exit 3\ncat '${output}'\n`, {
        mode: 0o755,
    });
    return { repo, binary };
}

/** The shop Infrastructure of a {@link renderingRepository}, its three phases, under the mocks. */
export function runShop(
    repository: { repo: string; binary: string },
    extra: { liveDiff?: boolean } = {},
    options: { run?: EngineOptions["run"] } = {},
) {
    return runProgram(async () => {
        const { Infrastructure } = await import("../../sdk");
        new Infrastructure("shop", {
            namespace: "shop",
            workingDirectory: repository.repo,
            helmfile: { binary: repository.binary },
            phases: { provision: true },
            provisionConfigs: false,
            ...extra,
        });
    }, options);
}
