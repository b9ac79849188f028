/**
 * A throwaway Kubernetes control plane on loopback for the end-to-end tests: etcd,
 * kube-apiserver and kube-controller-manager (namespace, garbage-collector and
 * service-account controllers), with certificates made by `openssl` in a private temp dir.
 * No kubelet and no scheduler: objects are stored and reconciled by those controllers, but
 * no pod ever runs.
 *
 *     const cluster = await startCluster();          // ~5-10 s
 *     execFileSync("kubectl", ["--kubeconfig", cluster.kubeconfig, "get", "ns"]);
 *     await cluster.stop();                          // kills everything, removes the dir
 *
 * The binaries come from test/e2e/toolchain/build.sh (options.binDir, else the environment
 * variable KAPTAIN_E2E_BIN, else build.sh is run, which returns at once when built).
 * Several clusters may run at once: each picks free ports and has its own dir. Every
 * process is started in its own process group; stop() kills the groups, so do the exit and
 * SIGINT/SIGTERM/SIGHUP handlers of this process, and a watchdog (a small detached shell)
 * kills them and removes the dir if this process dies without running its handlers.
 *
 * Only Node's standard library is used.
 */
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export interface Cluster {
    /** Path of an admin kubeconfig (user kaptain-admin in group system:masters; certs inline). */
    kubeconfig: string;
    /** The API server's URL, https://127.0.0.1:PORT. */
    server: string;
    /** The cluster's private temp dir (certs, etcd data, logs); removed by stop(). */
    dir: string;
    /** Kills every process of the cluster (and waits for them) and removes dir. Idempotent. */
    stop(): Promise<void>;
}

export interface ClusterOptions {
    /** Folder with etcd, kube-apiserver and kube-controller-manager. */
    binDir?: string;
    /** How long to wait for the control plane to be ready; 90 s by default. */
    timeoutMs?: number;
    /** Progress messages (timings); silent by default. */
    log?: (message: string) => void;
}

const TOOLCHAIN_BUILD = path.resolve(__dirname, "../toolchain/build.sh");

/** The toolchain's bin dir: $KAPTAIN_E2E_BIN, else what build.sh prints (it builds if needed). */
export function toolchainBin(): string {
    if (process.env.KAPTAIN_E2E_BIN) {
        return process.env.KAPTAIN_E2E_BIN;
    }
    const out = execFileSync("bash", [TOOLCHAIN_BUILD], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    return out.trim().split("\n").pop()!;
}

/** Starts a cluster; retries with other ports if one was taken in the meantime. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
    const binDir = options.binDir ?? toolchainBin();
    for (const name of ["etcd", "kube-apiserver", "kube-controller-manager"]) {
        if (!fs.existsSync(path.join(binDir, name))) {
            throw new Error(`startCluster: ${name} is missing from ${binDir}; run test/e2e/toolchain/build.sh`);
        }
    }
    for (let attempt = 1; ; attempt++) {
        try {
            return await startOnce(binDir, options);
        } catch (err) {
            if (!(err instanceof PortClash) || attempt >= 5) {
                throw err;
            }
            options.log?.(`cluster: port clash (${err.message}), retrying`);
        }
    }
}

class PortClash extends Error {}

/** Every cluster of this process not yet stopped, for the exit and signal handlers. */
const live = new Set<Running>();

interface Running {
    dir: string;
    groups: ChildProcess[];
    watchdog: ChildProcess;
}

async function startOnce(binDir: string, options: ClusterOptions): Promise<Cluster> {
    const started = Date.now();
    const log = (message: string) => options.log?.(`cluster: ${message} (+${Date.now() - started} ms)`);
    const timeoutMs = options.timeoutMs ?? 90_000;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kaptain-cluster-"));
    const running: Running = { dir, groups: [], watchdog: startWatchdog(dir) };
    live.add(running);
    installHandlers();
    try {
        const pki = makeCertificates(dir);
        log("certificates made");
        const [etcdPort, etcdPeerPort, apiPort] = await freePorts(3);
        const server = `https://127.0.0.1:${apiPort}`;
        const kubeconfig = writeKubeconfig(dir, "admin", server, pki, "admin");
        const cmKubeconfig = writeKubeconfig(dir, "controller-manager", server, pki, "controller-manager");

        const etcd = launch(running, binDir, "etcd", [
            "--name=default",
            `--data-dir=${dir}/etcd`,
            `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
            `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
            `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
            `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
            `--initial-cluster=default=http://127.0.0.1:${etcdPeerPort}`,
            "--unsafe-no-fsync", // a test cluster: durability does not matter, speed does
            "--log-level=warn",
        ]);
        await waitFor(dir, etcd, timeoutMs, () => httpGet(`http://127.0.0.1:${etcdPort}/health`));
        log("etcd ready");

        const apiserver = launch(running, binDir, "kube-apiserver", [
            `--etcd-servers=http://127.0.0.1:${etcdPort}`,
            // Serving: loopback only, on the free port, with our own serving cert.
            `--secure-port=${apiPort}`,
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            `--tls-cert-file=${pki.apiserverCert}`,
            `--tls-private-key-file=${pki.apiserverKey}`,
            // Authentication by client certificate; authorization by RBAC (admin is system:masters).
            `--client-ca-file=${pki.caCert}`,
            "--authorization-mode=RBAC",
            // Service-account tokens (the controller manager's controllers use them).
            "--service-account-issuer=https://kubernetes.default.svc",
            `--service-account-key-file=${pki.saPub}`,
            `--service-account-signing-key-file=${pki.saKey}`,
            "--service-cluster-ip-range=10.0.0.0/24",
            // Less work for a test cluster.
            "--profiling=false",
            "--enable-priority-and-fairness=false",
            `--cert-dir=${dir}/apiserver-certs`,
        ]);
        await waitFor(dir, apiserver, timeoutMs, () => apiGet(server, pki, "/readyz"));
        log("kube-apiserver ready");

        const controllerManager = launch(running, binDir, "kube-controller-manager", [
            `--kubeconfig=${cmKubeconfig}`,
            `--authentication-kubeconfig=${cmKubeconfig}`,
            `--authorization-kubeconfig=${cmKubeconfig}`,
            // namespace: finishes namespace deletion; garbagecollector: ownerReferences;
            // serviceaccount(-token): the `default` service account of every namespace.
            "--controllers=namespace,garbagecollector,serviceaccount,serviceaccount-token",
            "--use-service-account-credentials=true", // each controller with its own RBAC role
            `--service-account-private-key-file=${pki.saKey}`,
            `--root-ca-file=${pki.caCert}`,
            "--leader-elect=false",
            "--secure-port=0", // no metrics/health port: nothing to clash between clusters
        ]);
        await waitFor(dir, controllerManager, timeoutMs, () =>
            apiGet(server, pki, "/api/v1/namespaces/default/serviceaccounts/default"),
        );
        log("kube-controller-manager ready (default service account exists)");

        let stopping: Promise<void> | undefined;
        return {
            kubeconfig,
            server,
            dir,
            stop: () => (stopping ??= stopRunning(running)),
        };
    } catch (err) {
        await stopRunning(running);
        throw err;
    }
}

// ---------------------------------------------------------------- processes

function launch(running: Running, binDir: string, name: string, args: string[]): ChildProcess {
    const out = fs.openSync(path.join(running.dir, `${name}.log`), "a");
    // detached: its own process group (pgid = pid), so it and anything it forks die together,
    // and a Ctrl-C meant for the test runner reaches our handlers, not the cluster.
    const child = spawn(path.join(binDir, name), args, {
        cwd: running.dir,
        detached: true,
        stdio: ["ignore", out, out],
    });
    fs.closeSync(out);
    child.unref();
    running.groups.push(child);
    fs.appendFileSync(path.join(running.dir, "pgids"), `${child.pid}\n`);
    return child;
}

/**
 * A detached shell that outlives this process only to clean up after it: while this process
 * is alive and the dir exists it sleeps; then it kills the groups listed in dir/pgids and
 * removes the dir.
 */
function startWatchdog(dir: string): ChildProcess {
    const script = `
        parent=$1 dir=$2
        while kill -0 "$parent" 2>/dev/null && [ -d "$dir" ]; do sleep 1; done
        [ -d "$dir" ] || exit 0
        groups=$(cat "$dir/pgids" 2>/dev/null)
        for g in $groups; do kill -TERM -- "-$g" 2>/dev/null; done
        sleep 2
        for g in $groups; do kill -KILL -- "-$g" 2>/dev/null; done
        rm -rf "$dir"`;
    const child = spawn("bash", ["-c", script, "kaptain-cluster-watchdog", String(process.pid), dir], {
        detached: true,
        stdio: "ignore",
    });
    child.unref();
    return child;
}

function alive(child: ChildProcess): boolean {
    return child.exitCode === null && child.signalCode === null;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
    try {
        process.kill(-child.pid!, signal);
    } catch {
        // already gone
    }
}

async function stopRunning(running: Running): Promise<void> {
    killGroup(running.watchdog, "SIGKILL");
    // Controller manager first, etcd last; a grace period, then SIGKILL.
    for (const child of [...running.groups].reverse()) {
        killGroup(child, "SIGTERM");
        if (!(await exited(child, 5_000))) {
            killGroup(child, "SIGKILL");
            await exited(child, 5_000);
        }
        killGroup(child, "SIGKILL"); // anything left in its group
    }
    fs.rmSync(running.dir, { recursive: true, force: true });
    live.delete(running);
    if (live.size === 0) {
        removeHandlers();
    }
}

function exited(child: ChildProcess, ms: number): Promise<boolean> {
    if (!alive(child)) {
        return Promise.resolve(true);
    }
    return new Promise(resolve => {
        const timer = setTimeout(() => resolve(false), ms);
        child.once("exit", () => {
            clearTimeout(timer);
            resolve(true);
        });
    });
}

/** Synchronous last resort, for process exit and signals. */
function killAllSync(): void {
    for (const running of live) {
        for (const child of [running.watchdog, ...running.groups]) {
            killGroup(child, "SIGKILL");
        }
        fs.rmSync(running.dir, { recursive: true, force: true });
    }
    live.clear();
}

const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
let handlersInstalled = false;

function onSignal(signal: NodeJS.Signals): void {
    killAllSync();
    removeHandlers();
    // Let the signal do what it would have done without us (unless someone else handles it).
    if (process.listenerCount(signal) === 0) {
        process.kill(process.pid, signal);
    }
}

function installHandlers(): void {
    if (handlersInstalled) {
        return;
    }
    handlersInstalled = true;
    process.on("exit", killAllSync);
    for (const signal of SIGNALS) {
        process.on(signal, onSignal);
    }
}

function removeHandlers(): void {
    if (!handlersInstalled) {
        return;
    }
    handlersInstalled = false;
    process.removeListener("exit", killAllSync);
    for (const signal of SIGNALS) {
        process.removeListener(signal, onSignal);
    }
}

// ---------------------------------------------------------------- readiness

/** Polls probe() until it succeeds; fails at once if the process exits. */
async function waitFor(dir: string, child: ChildProcess, timeoutMs: number, probe: () => Promise<void>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const name = path.basename(child.spawnfile);
    let last: string;
    for (;;) {
        if (!alive(child)) {
            const tail = logTail(dir, child);
            if (/address already in use/i.test(tail)) {
                throw new PortClash(`${name}: address already in use`);
            }
            throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}):\n${tail}`);
        }
        try {
            await probe();
            return;
        } catch (err) {
            last = (err as Error).message;
        }
        if (Date.now() > deadline) {
            throw new Error(`${name} not ready after ${timeoutMs} ms (${last}):\n${logTail(dir, child)}`);
        }
        await new Promise(resolve => setTimeout(resolve, 200));
    }
}

function logTail(dir: string, child: ChildProcess): string {
    try {
        const text = fs.readFileSync(path.join(dir, `${path.basename(child.spawnfile)}.log`), "utf8");
        return text.split("\n").slice(-30).join("\n");
    } catch {
        return "";
    }
}

function httpGet(url: string): Promise<void> {
    return new Promise((resolve, reject) => {
        const req = http.get(url, { timeout: 2_000 }, res => {
            res.resume();
            if (res.statusCode === 200) {
                resolve();
            } else {
                reject(new Error(`${url}: HTTP ${res.statusCode}`));
            }
        });
        req.on("timeout", () => req.destroy(new Error(`${url}: timeout`)));
        req.on("error", reject);
    });
}

function apiGet(server: string, pki: Pki, urlPath: string): Promise<void> {
    return new Promise((resolve, reject) => {
        const req = https.get(
            `${server}${urlPath}`,
            {
                ca: fs.readFileSync(pki.caCert),
                cert: fs.readFileSync(pki.adminCert),
                key: fs.readFileSync(pki.adminKey),
                timeout: 2_000,
            },
            res => {
                res.resume();
                if (res.statusCode === 200) {
                    resolve();
                } else {
                    reject(new Error(`${urlPath}: HTTP ${res.statusCode}`));
                }
            },
        );
        req.on("timeout", () => req.destroy(new Error(`${urlPath}: timeout`)));
        req.on("error", reject);
    });
}

/** Free loopback ports, held all at once so they differ (a later clash is retried). */
export async function freePorts(count: number): Promise<number[]> {
    const servers: net.Server[] = [];
    try {
        for (let i = 0; i < count; i++) {
            const server = net.createServer();
            await new Promise<void>((resolve, reject) => {
                server.once("error", reject);
                server.listen(0, "127.0.0.1", () => resolve());
            });
            servers.push(server);
        }
        return servers.map(s => (s.address() as net.AddressInfo).port);
    } finally {
        await Promise.all(servers.map(s => new Promise(resolve => s.close(resolve))));
    }
}

// ---------------------------------------------------------------- certificates

interface Pki {
    caCert: string;
    caKey: string;
    apiserverCert: string;
    apiserverKey: string;
    adminCert: string;
    adminKey: string;
    controllerManagerCert: string;
    controllerManagerKey: string;
    saKey: string;
    saPub: string;
}

/** ECDSA P-256 everywhere: fast to make, and accepted by every component. */
function makeCertificates(dir: string): Pki {
    const pki = path.join(dir, "pki");
    fs.mkdirSync(pki, { mode: 0o700 });
    const p = (name: string) => path.join(pki, name);
    const openssl = (...args: string[]) =>
        execFileSync("openssl", args, { cwd: pki, stdio: ["ignore", "ignore", "pipe"] });
    const newKey = (name: string) =>
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", p(name));

    newKey("ca.key");
    openssl(
        "req",
        "-x509",
        "-new",
        "-key",
        p("ca.key"),
        "-subj",
        "/CN=kaptain-e2e-ca",
        "-days",
        "7",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-out",
        p("ca.crt"),
    );

    const sign = (name: string, subject: string, extensions: string[]) => {
        newKey(`${name}.key`);
        openssl("req", "-new", "-key", p(`${name}.key`), "-subj", subject, "-out", p(`${name}.csr`));
        fs.writeFileSync(p(`${name}.ext`), extensions.join("\n") + "\n");
        openssl(
            "x509",
            "-req",
            "-in",
            p(`${name}.csr`),
            "-CA",
            p("ca.crt"),
            "-CAkey",
            p("ca.key"),
            "-set_serial",
            `0x${Buffer.from(Array.from({ length: 8 }, () => Math.floor(Math.random() * 256))).toString("hex")}`,
            "-days",
            "7",
            "-extfile",
            p(`${name}.ext`),
            "-out",
            p(`${name}.crt`),
        );
    };
    const client = ["keyUsage=critical,digitalSignature", "extendedKeyUsage=clientAuth"];
    sign("apiserver", "/CN=kube-apiserver", [
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage=serverAuth",
        "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc",
    ]);
    sign("admin", "/O=system:masters/CN=kaptain-admin", client);
    // The user that the bootstrap RBAC policy binds to the system:kube-controller-manager role.
    sign("controller-manager", "/CN=system:kube-controller-manager", client);

    newKey("sa.key");
    openssl("pkey", "-in", p("sa.key"), "-pubout", "-out", p("sa.pub"));

    return {
        caCert: p("ca.crt"),
        caKey: p("ca.key"),
        apiserverCert: p("apiserver.crt"),
        apiserverKey: p("apiserver.key"),
        adminCert: p("admin.crt"),
        adminKey: p("admin.key"),
        controllerManagerCert: p("controller-manager.crt"),
        controllerManagerKey: p("controller-manager.key"),
        saKey: p("sa.key"),
        saPub: p("sa.pub"),
    };
}

function writeKubeconfig(
    dir: string,
    name: string,
    server: string,
    pki: Pki,
    user: "admin" | "controller-manager",
): string {
    const b64 = (file: string) => fs.readFileSync(file).toString("base64");
    const [cert, key] =
        user === "admin" ? [pki.adminCert, pki.adminKey] : [pki.controllerManagerCert, pki.controllerManagerKey];
    // JSON is YAML: no YAML library needed.
    const config = {
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "kaptain-e2e", cluster: { server, "certificate-authority-data": b64(pki.caCert) } }],
        users: [{ name: user, user: { "client-certificate-data": b64(cert), "client-key-data": b64(key) } }],
        contexts: [{ name: "kaptain-e2e", context: { cluster: "kaptain-e2e", user, namespace: "default" } }],
        "current-context": "kaptain-e2e",
        preferences: {},
    };
    const file = path.join(dir, `${name}.kubeconfig`);
    fs.writeFileSync(file, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
    return file;
}
