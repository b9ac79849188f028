import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { infrastructureArgsFromConfig } from "../../sdk/config";
import { outputValue, programFailures } from "../support/program";

/** Reads the args from the given `kaptain:*` config, as a stack would pass it. */
function read(config: Record<string, unknown>, secretKeys: string[] = []) {
    pulumi.runtime.setAllConfig(
        Object.fromEntries(
            Object.entries(config).map(([k, v]) => [`kaptain:${k}`, typeof v === "string" ? v : JSON.stringify(v)]),
        ),
        secretKeys.map(k => `kaptain:${k}`),
    );
    return infrastructureArgsFromConfig();
}

function messageOf(fn: () => unknown): string {
    try {
        fn();
    } catch (err) {
        return (err as Error).message;
    }
    throw new Error("expected an error");
}

describe("stack config", () => {
    it("maps every key onto InfrastructureArgs", () => {
        const everyKey = {
            namespace: "dev",
            workingDirectory: "infra",
            hooks: false,
            helmfile: { environment: "dev", concurrency: 0, extraArgs: ["--debug"] },
            phases: { provision: true, install: { strategy: "sync", concurrency: 2, syncArgs: ["--wait"] } },
            environment: { FOO: "bar" },
            fingerprintExclude: ["docs"],
            provisionConfigs: { secretKey: "values" },
            createNamespace: true,
            deleteNamespace: true,
            protect: true,
            logging: "steps",
        };
        expect(read(everyKey)).toEqual(everyKey);
    });

    it.each([
        ["phases", { install: { syncArgs: ["--set", "db.password=hunter2"] } }],
        ["helmfile", { extraArgs: ["--state-values-set=password=hunter2"] }],
        ["helmfile", { extraArgs: "hunter2" }],
    ])("refuses a secret `kaptain:%s`, which would reach command text, and never shows it", (key, value) => {
        const message = messageOf(() => read({ namespace: "dev", [key]: value }, [key]));
        expect(message).toContain(
            `config \`kaptain:${key}\` is stored as a secret, but pulumi-kaptain uses it as plain text`,
        );
        expect(message).toContain("`kaptain:environment`");
        expect(message).not.toContain("hunter2");
    });

    it("requires the namespace", () => {
        expect(messageOf(() => read({}))).toContain("`kaptain:namespace` is required");
    });

    it.each([
        [{ helmfile: { concurrency: -1 } }, "`kaptain:helmfile.concurrency` must be a whole number >= 0, got -1"],
        [{ helmfile: { binry: "x" } }, "`kaptain:helmfile.binry` is not a known field"],
        [
            { phases: { install: "yes" } },
            '`kaptain:phases.install` must be true, false or an object of strategy, concurrency, syncArgs, selectors, got "yes"',
        ],
        [
            { phases: { install: { stratgy: "sync" } } },
            "`kaptain:phases.install.stratgy` is not a known field (did you mean `strategy`?); " +
                "known fields: strategy, concurrency, syncArgs, selectors",
        ],
        [
            { phases: { install: { concurrency: "4" } } },
            '`kaptain:phases.install.concurrency` must be a whole number >= 0, got "4"',
        ],
        [{ phases: ["config"] }, "`kaptain:phases` must be an object"],
        [{ hooks: 3 }, "`kaptain:hooks` must be a file name or false, got 3"],
        [{ environment: { A: 1 } }, "`kaptain:environment.A` must be a string, got 1"],
        [{ fingerprintExclude: "docs" }, "`kaptain:fingerprintExclude` must be a list of relative paths"],
        [{ nmespace: "dev" }, "`kaptain:nmespace` is not a pulumi-kaptain setting (did you mean `kaptain:namespace`?)"],
        [{ helmfile: { binry: "x" } }, "`kaptain:helmfile.binry` is not a known field (did you mean `binary`?)"],
        [
            { provisionConfigs: { secretFle: "s.yaml" } },
            "`kaptain:provisionConfigs.secretFle` is not a known field (did you mean `secretFile`?)",
        ],
        [{ protect: "yes" }, '`kaptain:protect` must be true or false, got "yes"'],
        [{ createNamespace: 1 }, "`kaptain:createNamespace` must be true or false, got 1"],
        [{ logging: "verbose" }, '`kaptain:logging` must be one of all, stderr, steps, got "verbose"'],
        [
            { provisionConfigs: { createNamespace: true } },
            "`kaptain:provisionConfigs.createNamespace` is not a known field",
        ],
    ])("rejects %j", (extra, message) => {
        expect(messageOf(() => read({ namespace: "dev", ...extra }))).toContain(message);
    });

    it("lists every problem at once", () => {
        const message = messageOf(() => read({ namespace: "dev", hooks: 3, helmfile: { concurrency: "x" } }));
        expect(message).toContain("2 invalid arguments");
        expect(message).toContain("`kaptain:hooks` must be a file name or false, got 3");
        expect(message).toContain('`kaptain:helmfile.concurrency` must be a whole number >= 0, got "x"');
    });

    it("reads the kubeconfig and the secret map as Pulumi secrets", async () => {
        const args = read({ namespace: "dev", kubeconfig: "apiVersion: v1\n", secret: { password: "p" } }, [
            "kubeconfig",
            "secret",
        ]);
        expect(await outputValue(args.kubeconfig!)).toEqual({ value: "apiVersion: v1\n", secret: true });
        const pc = args.provisionConfigs as { secret: pulumi.Input<Record<string, unknown>> };
        expect(await outputValue(pc.secret)).toEqual({ value: { password: "p" }, secret: true });
    });

    it("hands every value of a secret kaptain:environment on as a secret, and never echoes one", async () => {
        const args = read({ namespace: "dev", environment: { TOKEN: "env-token-0006", OTHER: "x" } }, ["environment"]);
        expect(await outputValue(args.environment!.TOKEN)).toEqual({ value: "env-token-0006", secret: true });
        const message = messageOf(() => read({ namespace: "dev", environment: { TOKEN: 12345678 } }, ["environment"]));
        expect(message).toContain("`kaptain:environment.TOKEN` must be a string (its value is secret: not shown)");
        expect(message).not.toContain("12345678");
    });

    it("rejects a kaptain:secret that is not a JSON object without quoting it", async () => {
        const failures = await programFailures(() => {
            const pc = read({ namespace: "dev", secret: "hunter2-0008" }, ["secret"]).provisionConfigs as {
                secret: pulumi.Output<unknown>;
            };
            pc.secret.apply(v => v);
        });
        const messages = failures.map(f => f.message).join("\n");
        expect(messages).toContain("`kaptain:secret` must be a JSON object");
        expect(messages).not.toContain("hunter2-0008");
    });

    it("turns ProvisionConfigs off with provisionConfigs.enabled: false", () => {
        expect(read({ namespace: "dev", provisionConfigs: { enabled: false } }).provisionConfigs).toBe(false);
    });
});
