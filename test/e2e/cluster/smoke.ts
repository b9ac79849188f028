/**
 * Smoke test of the e2e toolchain and the loopback cluster (not a vitest file):
 *
 *     npx tsx test/e2e/cluster/smoke.ts
 *
 * Starts two clusters at once and checks that they are independent, that namespace deletion
 * finishes (the namespace controller runs), that Helm, the helm-diff plugin and helmfile
 * work against them, and that nothing is left behind: neither after stop(), nor after the
 * owning process is killed by SIGTERM (exit handlers) or SIGKILL (watchdog).
 */
import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { Cluster, startCluster, toolchainBin } from "./cluster";

const run = promisify(execFile);

async function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
    try {
        const { stdout } = await run(cmd, args, { env, maxBuffer: 64 << 20 });
        return stdout;
    } catch (err) {
        const e = err as { stderr?: string; stdout?: string; message: string };
        throw new Error(`${cmd} ${args.join(" ")} failed: ${e.message}\n${e.stdout ?? ""}${e.stderr ?? ""}`, {
            cause: err,
        });
    }
}

async function fails(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<boolean> {
    try {
        await sh(cmd, args, env);
        return false;
    } catch {
        return true;
    }
}

function check(ok: boolean, what: string): void {
    if (!ok) {
        throw new Error(`FAILED: ${what}`);
    }
    console.log(`ok - ${what}`);
}

/** True when no process mentions dir on its command line and dir is gone. */
async function leftover(dir: string): Promise<string> {
    let procs = "";
    try {
        procs = (await run("pgrep", ["-af", dir])).stdout.trim();
    } catch {
        // pgrep exits 1 when nothing matches
    }
    return [procs, fs.existsSync(dir) ? `${dir} exists` : ""].filter(Boolean).join("\n");
}

async function eventually(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await probe())) {
        if (Date.now() > deadline) {
            throw new Error(`FAILED: ${what} (after ${ms} ms)`);
        }
        await new Promise(resolve => setTimeout(resolve, 250));
    }
    console.log(`ok - ${what}`);
}

/** Child mode: start a cluster, print its dir, wait to be killed. */
async function child(bin: string): Promise<void> {
    const cluster = await startCluster({ binDir: bin });
    process.stdout.write(`DIR ${cluster.dir}\n`);
    setInterval(() => undefined, 1 << 30);
}

/** Starts a cluster in a child process, kills that process with signal, checks the cleanup. */
async function killedOwner(bin: string, signal: NodeJS.Signals): Promise<void> {
    const proc = spawn(process.execPath, [...process.execArgv, __filename, "--child"], {
        env: { ...process.env, KAPTAIN_E2E_BIN: bin },
        stdio: ["ignore", "pipe", "inherit"],
    });
    const dir = await new Promise<string>((resolve, reject) => {
        let out = "";
        proc.stdout!.on("data", (chunk: Buffer) => {
            out += chunk.toString();
            const m = /DIR (\S+)/.exec(out);
            if (m) {
                resolve(m[1]);
            }
        });
        proc.on("exit", code => reject(new Error(`child exited early (${code})`)));
    });
    check((await leftover(dir)).includes("kube-apiserver"), `${signal}: the child's cluster runs`);
    proc.kill(signal);
    await eventually(
        `${signal}: no process and no dir left after the owner died`,
        20_000,
        async () => (await leftover(dir)) === "",
    );
}

async function main(): Promise<void> {
    const bin = toolchainBin();
    if (process.argv.includes("--child")) {
        return child(bin);
    }
    const plugins = path.join(bin, "..", "helm-plugins");
    const kubectl = path.join(bin, "kubectl");
    const helm = path.join(bin, "helm");
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "kaptain-smoke-"));

    let t = Date.now();
    const clusters: Cluster[] = await Promise.all([
        startCluster({ binDir: bin, log: m => console.log(`[a] ${m}`) }),
        startCluster({ binDir: bin, log: m => console.log(`[b] ${m}`) }),
    ]);
    console.log(`two clusters started at once in ${Date.now() - t} ms`);
    const [a, b] = clusters;
    try {
        const ka = ["--kubeconfig", a.kubeconfig];
        const kb = ["--kubeconfig", b.kubeconfig];
        console.log((await sh(kubectl, [...ka, "version"])).trim());

        await sh(kubectl, [...ka, "create", "namespace", "a"]);
        await sh(kubectl, [...ka, "-n", "a", "create", "configmap", "c", "--from-literal=k=v"]);
        check(
            (await sh(kubectl, [...ka, "get", "namespace", "a", "-o", "name"])).trim() === "namespace/a",
            "cluster a has namespace a",
        );
        check(await fails(kubectl, [...kb, "get", "namespace", "a"]), "cluster b does not see it");
        await eventually(
            "namespace a gets its default service account",
            30_000,
            async () => !(await fails(kubectl, [...ka, "-n", "a", "get", "serviceaccount", "default"])),
        );
        t = Date.now();
        await sh(kubectl, [...ka, "delete", "namespace", "a", "--wait=true", "--timeout=60s"]);
        check(
            await fails(kubectl, [...ka, "get", "namespace", "a"]),
            `namespace a (with a ConfigMap) deleted and gone in ${Date.now() - t} ms`,
        );

        // Garbage collector: a ConfigMap owned by another one goes when its owner goes.
        await sh(kubectl, [...ka, "create", "configmap", "owner"]);
        const uid = (await sh(kubectl, [...ka, "get", "configmap", "owner", "-o", "jsonpath={.metadata.uid}"])).trim();
        const owned = path.join(work, "owned.json");
        fs.writeFileSync(
            owned,
            JSON.stringify({
                apiVersion: "v1",
                kind: "ConfigMap",
                metadata: {
                    name: "owned",
                    ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "owner", uid }],
                },
            }),
        );
        await sh(kubectl, [...ka, "create", "-f", owned]);
        await sh(kubectl, [...ka, "delete", "configmap", "owner"]);
        await eventually("the garbage collector deletes a dependent", 30_000, async () =>
            fails(kubectl, [...ka, "get", "configmap", "owned"]),
        );

        // Helm (from npm) with the helm-diff plugin, and helmfile.
        const chart = path.join(work, "chart");
        fs.mkdirSync(path.join(chart, "templates"), { recursive: true });
        fs.writeFileSync(path.join(chart, "Chart.yaml"), "apiVersion: v2\nname: smoke\nversion: 0.1.0\n");
        fs.writeFileSync(path.join(chart, "values.yaml"), "greeting: hello\n");
        fs.writeFileSync(
            path.join(chart, "templates", "configmap.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  greeting: {{ .Values.greeting | quote }}\n",
        );
        const env: NodeJS.ProcessEnv = {
            ...process.env,
            PATH: `${bin}:${process.env.PATH}`,
            HELM_PLUGINS: plugins,
            HELM_CACHE_HOME: path.join(work, "helm", "cache"),
            HELM_CONFIG_HOME: path.join(work, "helm", "config"),
            HELM_DATA_HOME: path.join(work, "helm", "data"),
            KUBECONFIG: a.kubeconfig,
        };
        console.log((await sh(helm, ["version", "--short"], env)).trim());
        await sh(helm, ["install", "smoke", chart, "--namespace", "default", "--wait"], env);
        const list = await sh(helm, ["list", "--namespace", "default"], env);
        console.log(list.trim());
        check(/^smoke\s.*deployed/m.test(list), "helm install + helm list");
        check(
            (await sh(kubectl, [...ka, "get", "configmap", "smoke", "-o", "jsonpath={.data.greeting}"])) === "hello",
            "the chart's ConfigMap is in the cluster",
        );
        console.log(`helm diff version: ${(await sh(helm, ["diff", "version"], env)).trim()}`);
        const diff = await sh(
            helm,
            ["diff", "upgrade", "smoke", chart, "--namespace", "default", "--set", "greeting=bye"],
            env,
        );
        check(
            /-\s+greeting: "?hello"?/.test(diff) && /\+\s+greeting: "?bye"?/.test(diff),
            "helm diff upgrade shows the change",
        );
        console.log((await sh(path.join(bin, "helmfile"), ["--version"], env)).trim());
        fs.writeFileSync(
            path.join(work, "helmfile.yaml"),
            `releases:\n  - name: smoke-hf\n    namespace: default\n    chart: ${chart}\n    values:\n      - greeting: from-helmfile\n`,
        );
        await sh(
            path.join(bin, "helmfile"),
            ["--file", path.join(work, "helmfile.yaml"), "apply", "--suppress-diff"],
            env,
        );
        check(
            (await sh(kubectl, [...ka, "get", "configmap", "smoke-hf", "-o", "jsonpath={.data.greeting}"])) ===
                "from-helmfile",
            "helmfile apply (helm + helm-diff) deployed its release",
        );
        check(await fails(kubectl, [...kb, "get", "configmap", "smoke"]), "cluster b has no Helm release");
    } finally {
        t = Date.now();
        await Promise.all(clusters.map(c => c.stop()));
        console.log(`two clusters stopped in ${Date.now() - t} ms`);
        fs.rmSync(work, { recursive: true, force: true });
    }
    for (const c of clusters) {
        const left = await leftover(c.dir);
        check(left === "", `nothing left of ${c.dir}${left ? `:\n${left}` : ""}`);
    }

    await killedOwner(bin, "SIGTERM");
    await killedOwner(bin, "SIGKILL");
    console.log("smoke: all passed");
}

main().catch(err => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
});
