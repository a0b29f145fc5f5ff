// A real SMTP server for the tests (npm smtp-server), on a free 127.0.0.1 port: it accepts
// every message and parses it with mailparser, so tests read what the server under test sent
// exactly as a mail server receives it. STARTTLS and AUTH are off, so plain SMTP is used.
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';

export async function startMailServer() {
  const mails = [];
  const waiters = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          const to = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
          mails.push({ to, subject: parsed.subject, html: parsed.html || '', text: parsed.text || '', from: parsed.from?.text || '' });
          for (const w of waiters.splice(0)) w();
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', res);
  });
  const port = server.server.address().port;

  const take = (to) => {
    const i = mails.findIndex((m) => m.to.includes(to.toLowerCase()));
    return i < 0 ? null : mails.splice(i, 1)[0];
  };

  return {
    port,
    /** The SMTP settings pointing at this server. */
    smtpSettings: { enabled: true, host: '127.0.0.1', port, tls: false },
    /** Waits (at most 10 s) for the next mail to `to` and removes it from the box. */
    async waitFor(to, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = take(to);
        if (m) return m;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no mail to ${to} within ${timeoutMs} ms`);
        await new Promise((r) => { waiters.push(r); setTimeout(r, Math.min(left, 200)); });
      }
    },
    /** Resolves true when no mail to `to` arrived within `ms`. */
    async nothingFor(to, ms = 500) {
      await new Promise((r) => setTimeout(r, ms));
      return take(to) === null;
    },
    stop: () => new Promise((r) => server.close(r)),
  };
}

/** The token at the end of a `/{path}/{TOKEN}` link in a mail. */
export function tokenFrom(mail, path) {
  const m = (mail.html + mail.text).match(new RegExp(`/${path}/([A-Za-z0-9._-]+)`));
  if (!m) throw new Error(`no ${path} link in: ${mail.html}`);
  return m[1];
}

/** The first run of exactly `len` digits in a mail (a one-time password). */
export function codeFrom(mail, len = 8) {
  const m = (mail.text || mail.html).match(new RegExp(`(?<!\\d)(\\d{${len}})(?!\\d)`));
  if (!m) throw new Error(`no ${len}-digit code in: ${mail.text}`);
  return m[1];
}
