// A tiny SMTP server for the browser tests (plain SMTP, no TLS, no AUTH), on a free 127.0.0.1
// port: it keeps each message's envelope and raw text, which is all the tests look at.
import net from 'node:net';

export async function startSmtp() {
  const mails = [];
  const server = net.createServer((sock) => {
    sock.setEncoding('utf8');
    sock.on('error', () => {});
    let buf = '';
    let inData = false;
    let mail = { from: '', to: [], data: '' };
    const say = (line) => sock.write(`${line}\r\n`);
    say('220 127.0.0.1 ESMTP test');
    sock.on('data', (chunk) => {
      buf += chunk;
      for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            mails.push(mail);
            mail = { from: '', to: [], data: '' };
            say('250 OK: queued');
          } else mail.data += `${line.startsWith('.') ? line.slice(1) : line}\n`;
          continue;
        }
        const verb = line.split(' ')[0].toUpperCase();
        if (verb === 'EHLO') sock.write('250-127.0.0.1\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n');
        else if (verb === 'HELO') say('250 127.0.0.1');
        else if (verb === 'MAIL') (mail.from = /<([^>]*)>/.exec(line)?.[1] ?? ''), say('250 OK');
        else if (verb === 'RCPT') mail.to.push((/<([^>]*)>/.exec(line)?.[1] ?? '').toLowerCase()), say('250 OK');
        else if (verb === 'DATA') (inData = true), say('354 End data with <CR><LF>.<CR><LF>');
        else if (verb === 'RSET') (mail = { from: '', to: [], data: '' }), say('250 OK');
        else if (verb === 'NOOP') say('250 OK');
        else if (verb === 'QUIT') say('221 Bye'), sock.end();
        else say('502 Command not implemented');
      }
    });
  });
  await new Promise((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', res);
  });
  return {
    port: server.address().port,
    /** The first mail to `to`, waiting at most `ms`. */
    async waitFor(to, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const m = mails.find((x) => x.to.includes(to.toLowerCase()));
        if (m) return m;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no mail to ${to} within ${ms} ms (got ${mails.length})`);
    },
    stop: () => new Promise((r) => server.close(r)),
  };
}
