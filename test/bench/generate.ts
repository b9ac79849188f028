import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export interface RepoSize {
    readonly releases: number;
    readonly files: number;
    readonly megabytes: number;
    readonly namespaces: number;
}

export interface GenerateOptions {
    /**
     * A repository helmfile and helm can deploy on a loopback cluster without nodes: the
     * helmfile is `helmfile.yaml.gotmpl` (helmfile v1 renders only those as templates, and
     * the releases' namespace is `requiredEnv "KAPTAIN_NAMESPACE"`), and the chart renders one
     * ConfigMap per release. Without it (`npm run bench`, which never runs helmfile) the
     * helmfile is `helmfile.yaml` and the chart has no templates.
     * @default false
     */
    readonly installable?: boolean;
}

/**
 * Writes a synthetic kaptain repository: `releases` releases in helmfile.yaml, `files`
 * config files spread over configs/<release>/ (a few per namespace as overrides),
 * `megabytes` in all, and a hooks.sh that does what a real make-config does least: nothing.
 */
export function generateRepository(
    root: string,
    size: RepoSize,
    options: GenerateOptions = {},
): { bytes: number; files: number; lastCommonFile: string } {
    fs.mkdirSync(root, { recursive: true });
    const releases = Array.from({ length: size.releases }, (_, i) => `release-${String(i).padStart(4, "0")}`);
    const helmfile = [
        "values:",
        "  - global.yaml",
        "releases:",
        ...releases.flatMap((r, i) => [
            `  - name: ${r}`,
            `    chart: ./charts/app`,
            `    namespace: {{ requiredEnv "KAPTAIN_NAMESPACE" }}`,
            `    labels:`,
            `      action: ${i % 10 === 0 ? "config" : i % 10 === 1 ? "provision" : "install"}`,
        ]),
    ].join("\n");
    fs.writeFileSync(path.join(root, options.installable ? "helmfile.yaml.gotmpl" : "helmfile.yaml"), `${helmfile}\n`);
    fs.writeFileSync(path.join(root, "global.yaml"), "domain: bench.example.test\n");
    fs.writeFileSync(path.join(root, "secret.yaml"), "secret:\n  password: bench-not-a-secret\n");
    fs.writeFileSync(
        path.join(root, "hooks.sh"),
        'HOOK=$1\nif [ "$HOOK" = "make-config" ]; then\n  export REPO_REVISION=bench\nfi\n',
    );
    fs.mkdirSync(path.join(root, "charts", "app", "templates"), { recursive: true });
    fs.writeFileSync(path.join(root, "charts", "app", "Chart.yaml"), "apiVersion: v2\nname: app\nversion: 0.1.0\n");
    if (options.installable) {
        fs.writeFileSync(
            path.join(root, "charts", "app", "templates", "configmap.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n" +
                'data:\n  domain: {{ .Values.domain | default "bench.example.test" | quote }}\n',
        );
    }

    const average = Math.floor((size.megabytes * 1024 * 1024) / size.files);
    let bytes = 0;
    let written = 0;
    let lastCommonFile = "";
    const overridesPerNamespace = Math.min(50, Math.floor(size.files / 100));
    for (let i = 0; i < size.files; i++) {
        // Sizes vary from half to one and a half times the average, deterministically.
        const length = Math.max(1, Math.floor(average * (0.5 + ((i * 7919) % 1000) / 1000)));
        const release = releases[i % releases.length];
        const namespace = i < overridesPerNamespace * size.namespaces ? `ns-${i % size.namespaces}` : undefined;
        const dir =
            namespace === undefined
                ? path.join(root, "configs", release, `part-${Math.floor(i / releases.length) % 8}`)
                : path.join(root, "namespaces", namespace, "configs", release);
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, `file-${i}.conf`), randomBytes(length));
        if (namespace === undefined) {
            lastCommonFile = path.join(dir, `file-${i}.conf`);
        }
        bytes += length;
        written++;
    }
    for (let n = 0; n < size.namespaces; n++) {
        fs.mkdirSync(path.join(root, "namespaces", `ns-${n}`), { recursive: true });
        fs.writeFileSync(
            path.join(root, "namespaces", `ns-${n}`, "hooks.sh"),
            fs.readFileSync(path.join(root, "hooks.sh")),
        );
    }
    return { bytes, files: written, lastCommonFile };
}
