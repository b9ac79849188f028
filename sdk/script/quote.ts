/**
 * Quotes one word for a POSIX shell. Safe words stay bare so generated scripts read
 * like hand-written ones; anything else is single-quoted, which stops every expansion
 * (`$(...)`, backticks, globs, spaces).
 */
export function shQuote(word: string): string {
    if (word !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) {
        return word;
    }
    return quoted(word);
}

/**
 * Quotes every word of a command line and joins them with spaces. The first word is
 * the command: bare, `NAME=value` would be read as an assignment and a reserved word
 * such as `time` or `if` as syntax, so those are quoted too.
 */
export function shJoin(words: readonly string[]): string {
    return words.map((word, i) => (i === 0 && readsAsSyntax(word) ? quoted(word) : shQuote(word))).join(" ");
}

const RESERVED = new Set([
    "!",
    "case",
    "coproc",
    "do",
    "done",
    "elif",
    "else",
    "esac",
    "fi",
    "for",
    "function",
    "if",
    "in",
    "select",
    "then",
    "time",
    "until",
    "while",
    "{",
    "}",
    "[[",
    "]]",
]);

function readsAsSyntax(command: string): boolean {
    return RESERVED.has(command) || /^[A-Za-z_][A-Za-z0-9_]*\+?=/.test(command);
}

function quoted(word: string): string {
    return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The words of a line that {@link shJoin} wrote: bare words, single-quoted runs (with
 * `'\''` for a quote), separated by spaces. The inverse of shJoin, for reading a stored
 * script's command lines back (a previous plan's delete scripts).
 */
export function shSplit(line: string): string[] {
    const words: string[] = [];
    let word: string | undefined;
    for (let i = 0; i < line.length; i++) {
        const c = line[i];
        if (c === " ") {
            if (word !== undefined) {
                words.push(word);
            }
            word = undefined;
        } else if (c === "'") {
            const end = line.indexOf("'", i + 1);
            word = (word ?? "") + line.slice(i + 1, end < 0 ? line.length : end);
            i = end < 0 ? line.length : end;
        } else if (c === "\\" && i + 1 < line.length) {
            word = (word ?? "") + line[++i];
        } else {
            word = (word ?? "") + c;
        }
    }
    return word !== undefined ? [...words, word] : words;
}

/** Newlines and other control characters: never part of a command-line argument. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;

/** Whether a word holds a control character (a newline, a carriage return, ...). */
export function hasControlCharacter(word: string): boolean {
    return word.search(CONTROL_CHARACTERS) >= 0;
}
