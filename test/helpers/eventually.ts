/** Polls `check` every 100 ms until it holds (true) or `withinMs` pass (false): a state reached in the background. */
export async function eventually (check: () => Promise<boolean>, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs
  while (Date.now() < deadline) {
    if (await check()) return true
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  // once more at the deadline: a check that itself took long must not use up the whole budget unasked
  return await check()
}
