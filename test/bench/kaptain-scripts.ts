// The phase Commands of some Infrastructures, as the command provider would run them: the
// program runs under Pulumi's mocks (test/support/program.ts) and what it registered is
// written as JSON. A process of its own: the mocks replace the SDK's monitor and log in the
// process they run in, where the benchmark also runs inline programs on the real engine.
//
//     tsx test/bench/kaptain-scripts.ts REQUEST.json OUT.json
//
// REQUEST.json: `{ infrastructures: [{ name, args }] }`, each `args` an InfrastructureArgs of
// plain values. OUT.json: every phase Command (`<name>-<phase>`) by name. Their `dir` is
// relative to this process's working directory.
import * as fs from "node:fs";
import { captured, CapturedCommand, COMMAND_TYPE, runProgram } from "../support/program";
import type { InfrastructureArgs } from "../../sdk";

export interface ScriptsRequest {
    readonly infrastructures: readonly { readonly name: string; readonly args: InfrastructureArgs }[];
}

async function main(): Promise<void> {
    const [requestFile, outFile] = process.argv.slice(2);
    const request = JSON.parse(fs.readFileSync(requestFile, "utf8")) as ScriptsRequest;
    const engine = await runProgram(async () => {
        const { Infrastructure } = await import("../../sdk");
        for (const { name, args } of request.infrastructures) {
            new Infrastructure(name, args);
        }
    });
    if (engine.errors.length > 0) {
        throw new Error(engine.errors.join("\n"));
    }
    const commands: Record<string, CapturedCommand> = {};
    for (const resource of engine.resources.filter(r => r.type === COMMAND_TYPE)) {
        commands[resource.name] = captured(resource);
    }
    fs.writeFileSync(outFile, JSON.stringify(commands));
}

main().then(
    () => process.exit(0),
    err => {
        console.error(err);
        process.exit(1);
    },
);
