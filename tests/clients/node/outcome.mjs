// A call's outcome as JSON: its answer, or the error it raised (name, message, code), so pytest can assert on both.
export async function outcome(promise) {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error: { name: error?.name, message: String(error?.message ?? error), code: error?.code } };
  }
}
