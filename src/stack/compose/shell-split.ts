// Splits a command string into words the way Compose does (POSIX shell quoting without
// expansion): whitespace separates, single quotes are literal, double quotes allow \" \\ \$ \`,
// and a backslash outside quotes escapes the next character.

export class ShellSplitProblem extends Error {}

export function shellSplit(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const char = text[i]!;
    if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else if (char === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new ShellSplitProblem("unterminated single quote");
      word += text.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (char === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\" && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1]!)) {
          if (text[i + 1] !== "\n") word += text[i + 1];
          i += 2;
        } else {
          word += text[i];
          i++;
        }
      }
      if (i >= text.length) throw new ShellSplitProblem("unterminated double quote");
      inWord = true;
      i++;
    } else if (char === "\\") {
      if (i + 1 >= text.length) throw new ShellSplitProblem("trailing backslash");
      if (text[i + 1] !== "\n") word += text[i + 1];
      inWord = true;
      i += 2;
    } else {
      word += char;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}
