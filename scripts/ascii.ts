import ts from 'typescript';

/**
 * asciiOnly writes each non-ASCII character of a bundle as a \uXXXX escape. V8 keeps a script's
 * source for as long as it runs, and a single character beyond Latin-1 makes it keep all of it
 * as two-byte text: for the 6 MB bundle, about 10 MB more in every run, for a few hundred
 * characters, nearly all in the comments of dependencies.
 *
 * An escape means the same character in comments, string and untagged template literals and
 * regular expressions. Anywhere else (the raw text of a tagged template, an identifier,
 * whitespace) or after a backslash, it could change the program: the build stops there instead.
 * The TypeScript parser tells where each character lies.
 */
export function asciiOnly(text: string, fileName: string): string {
  if (!NON_ASCII.test(text)) return text;
  const source = ts.createSourceFile(
    fileName,
    text,
    {languageVersion: ts.ScriptTarget.Latest, jsDocParsingMode: ts.JSDocParsingMode.ParseNone},
    true,
    ts.ScriptKind.JS,
  );
  return text.replace(NON_ASCII_ALL, (char: string, at: number) => {
    const code = char.charCodeAt(0).toString(16).padStart(4, '0');
    if (!escapable(source, at) || text[at - 1] === '\\') {
      const {line, character} = source.getLineAndCharacterOfPosition(at);
      throw new Error(`${fileName}:${line + 1}:${character + 1}: cannot escape U+${code.toUpperCase()} here without changing the program`);
    }
    return `\\u${code}`;
  });
}

const NON_ASCII = /[^\0-\x7f]/;
// Without the u flag, a character beyond the BMP is matched as two surrogates, escaped one by one.
const NON_ASCII_ALL = /[^\0-\x7f]/g;

const LITERALS = new Set([
  ts.SyntaxKind.StringLiteral,
  ts.SyntaxKind.NoSubstitutionTemplateLiteral,
  ts.SyntaxKind.TemplateHead,
  ts.SyntaxKind.TemplateMiddle,
  ts.SyntaxKind.TemplateTail,
  ts.SyntaxKind.RegularExpressionLiteral,
]);

/** Whether the character at `at` is in a comment, or in a literal where an escape means the same. */
function escapable(source: ts.SourceFile, at: number): boolean {
  let token: ts.Node = source;
  for (let child = childAt(source, token, at); child; child = childAt(source, token, at)) token = child;
  if (at < token.getStart(source)) {
    // Before a token, in the comments and whitespace after the one before it.
    const {text} = source;
    const comments = [...(ts.getTrailingCommentRanges(text, token.pos) ?? []), ...(ts.getLeadingCommentRanges(text, token.pos) ?? [])];
    return comments.some(({pos, end}) => pos <= at && at < end);
  }
  return LITERALS.has(token.kind) && !ts.findAncestor(token, ts.isTaggedTemplateExpression);
}

const childAt = (source: ts.SourceFile, node: ts.Node, at: number) =>
  node.getChildren(source).find((child) => child.pos <= at && at < child.end);
