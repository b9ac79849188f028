/**
 * What the verb and adoption scenarios share: the `kaptain` CLI run as a user runs it (a
 * child process, asynchronously so that a watcher keeps polling meanwhile), a deploy the
 * way the kaptain bash wrapper makes one, and a watcher of objects in a cluster.
 */
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import { REPO_ROOT } from "./tools";

export interface CliRun {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs `kaptain ARGS` from this checkout's source in `cwd`; stdin is empty and not a terminal. */
export function kaptainCli(args: string[], cwd: string, env: Record<string, string>): Promise<CliRun> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [path.join(REPO_ROOT, "sdk/dev-cli.cjs"), ...args], {
            cwd,
            env: { ...process.env, FORCE_COLOR: "0", ...env },
            stdio: ["pipe", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", d => (stdout += String(d)));
        child.stderr.on("data", d => (stderr += String(d)));
        child.stdin.end();
        child.on("error", reject);
        child.on("close", status => resolve({ status, stdout, stderr }));
    });
}

/**
 * Deploys a namespace the way the kaptain wrapper does (`kaptain config`, then `kaptain
 * install`): helmfile sync in the namespace folder with the KAPTAIN_* variables, the
 * namespace's rclone.conf copied into its provision-configs chart, config releases synced
 * again by install.
 */
export function kaptainWrapperDeploy(repo: string, namespace: string, env: Record<string, string>): void {
    const dir = path.join(repo, "namespaces", namespace);
    const kaptain = path.join(dir, "provision-configs", ".kaptain");
    fs.mkdirSync(kaptain, { recursive: true });
    fs.copyFileSync(path.join(dir, "rclone.conf"), path.join(kaptain, "rclone.conf"));
    const run = (selectors: string[]) =>
        execFileSync(
            "helmfile",
            ["--file", "../../helmfile.yaml.gotmpl", ...selectors.flatMap(s => ["--selector", s]), "sync"],
            {
                cwd: dir,
                env: {
                    ...process.env,
                    ...env,
                    KAPTAIN_NAMESPACE: namespace,
                    KAPTAIN_NAMESPACE_DIRECTORY: dir,
                    KAPTAIN_WORKING_DIRECTORY: repo,
                },
                stdio: ["ignore", "pipe", "pipe"],
            },
        );
    try {
        run(["action=config"]);
        run(["action=config", "action=install"]);
    } finally {
        fs.rmSync(kaptain, { recursive: true, force: true });
    }
}

/** An object of a namespace: `secrets` or `configmaps`, and its name. */
export interface WatchedObject {
    readonly resource: "secrets" | "configmaps";
    readonly name: string;
}

export interface ObjectWatch {
    /** What the API server's watches reported, in order: ADDED, MODIFIED, DELETED with the object's UID. */
    readonly events: Array<{ type: string; object: string; uid: string }>;
    /** Polls that did not find an object (404), with when. */
    readonly gaps: Array<{ object: string; at: number }>;
    /** How many polls ran, all objects together. */
    polls: number;
    /** Stops watching and polling; throws when a watch ended on its own (it could have missed events). */
    stop(): Promise<void>;
}

/**
 * Watches each object with the API server's watch (every change, none missed) and also
 * polls it every 50 ms (the object is there at each moment a client looks), in this
 * process, with the kubeconfig's client certificate.
 */
export function watchObjects(kubeconfig: string, namespace: string, objects: readonly WatchedObject[]): ObjectWatch {
    const config = JSON.parse(fs.readFileSync(kubeconfig, "utf8")) as {
        clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
        users: { user: { "client-certificate-data": string; "client-key-data": string } }[];
    };
    const server = new URL(config.clusters[0].cluster.server);
    const decode = (s: string) => Buffer.from(s, "base64");
    const agent = new https.Agent({
        ca: decode(config.clusters[0].cluster["certificate-authority-data"]),
        cert: decode(config.users[0].user["client-certificate-data"]),
        key: decode(config.users[0].user["client-key-data"]),
        keepAlive: true,
    });
    const request = (urlPath: string) =>
        https.request({ host: server.hostname, port: server.port, path: urlPath, agent, method: "GET" });
    const base = (o: WatchedObject) => `/api/v1/namespaces/${namespace}/${o.resource}`;
    const label = (o: WatchedObject) => `${o.resource}/${o.name}`;

    const watch: ObjectWatch = { events: [], gaps: [], polls: 0, stop: async () => undefined };
    let stopped = false;
    const endedEarly: string[] = [];
    const streams = objects.map(o => {
        const req = request(`${base(o)}?watch=1&fieldSelector=${encodeURIComponent(`metadata.name=${o.name}`)}`);
        req.on("response", res => {
            let buffer = "";
            res.on("data", chunk => {
                buffer += String(chunk);
                let newline;
                while ((newline = buffer.indexOf("\n")) >= 0) {
                    const line = buffer.slice(0, newline);
                    buffer = buffer.slice(newline + 1);
                    const event = JSON.parse(line) as { type: string; object: { metadata: { uid: string } } };
                    watch.events.push({ type: event.type, object: label(o), uid: event.object.metadata.uid });
                }
            });
            res.on("end", () => {
                if (!stopped) endedEarly.push(label(o));
            });
        });
        req.on("error", () => {
            if (!stopped) endedEarly.push(label(o));
        });
        req.end();
        return req;
    });
    const poll = () =>
        Promise.all(
            objects.map(
                o =>
                    new Promise<void>(resolve => {
                        const req = request(`${base(o)}/${o.name}`);
                        req.on("response", res => {
                            res.resume();
                            if (res.statusCode === 404) {
                                watch.gaps.push({ object: label(o), at: Date.now() });
                            }
                            res.on("end", resolve);
                        });
                        req.on("error", () => resolve());
                        req.end();
                    }),
            ),
        ).then(() => {
            watch.polls += 1;
        });
    let polling = Promise.resolve();
    const timer = setInterval(() => {
        polling = polling.then(poll);
    }, 50);
    watch.stop = async () => {
        stopped = true;
        clearInterval(timer);
        await polling;
        streams.forEach(s => s.destroy());
        agent.destroy();
        if (endedEarly.length > 0) {
            throw new Error(`the watch of ${endedEarly.join(", ")} ended before the test stopped it`);
        }
    };
    return watch;
}
