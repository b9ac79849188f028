// `liveDiff`: an invoke the command provider itself fails (it cannot start the command:
// argument list too long, a NUL in a variable, no bash) must not reject the phases' inputs:
// the program would never finish under the Automation API (kaptain's verbs). Its own file:
// on failure, the runtime keeps the stuck registrations.
import * as path from "node:path";
import { expect, it } from "vitest";
import { copyFixture, tempDir } from "../support/fixture";
import { startEngine } from "../../sdk/synth/engine";

const repo = copyFixture(path.join(tempDir(), "repo"));

it("an invoke that fails in the provider is a warning naming the phase and the cause, and the program finishes", async () => {
    const engine = await startEngine({
        project: "kaptain-test",
        stack: "dev",
        run: () => {
            throw new Error("fork/exec /bin/bash: argument list too long");
        },
    });
    const rejections: unknown[] = [];
    const onRejection = (err: unknown) => rejections.push(err);
    process.on("unhandledRejection", onRejection);
    try {
        const { Infrastructure } = await import("../../sdk");
        new Infrastructure("geo", {
            namespace: "dev",
            workingDirectory: repo,
            kubeconfig: "apiVersion: v1\nkind: Config\n",
            liveDiff: true,
        });
        const outcome = await Promise.race([
            engine.settle().then(() => "finished"),
            new Promise(resolve => setTimeout(() => resolve("still waiting after 10 s"), 10_000)),
        ]);
        expect(outcome).toBe("finished");
        expect(engine.errors).toEqual([]);
        // (Pulumi's mocks pass the provider's message on as a bare Error; the engine passes it whole.)
        expect(engine.warnings.join("\n")).toMatch(
            /geo: the live diff of the \w+ phase \(`liveDiff`\) did not run: \w/,
        );
    } finally {
        process.off("unhandledRejection", onRejection);
    }
}, 30_000);
