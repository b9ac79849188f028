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

/** Newlines and other control characters: never part of a command-line argument. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;

/** Whether a word holds a control character (a newline, a carriage return, ...). */
export function hasControlCharacter(word: string): boolean {
    return word.search(CONTROL_CHARACTERS) >= 0;
}
