"""An SMTP server for the notification tests: aiosmtpd on 127.0.0.1, on a port the system picks
(printed as the first line of stdout), writing each message it accepts to DIR/NNN.json as
{"from": envelope sender, "to": [envelope recipients], "subject": …, "headers": {…}, "parts":
[{"content_type", "filename", "text"}]}, each part decoded as a mail reader would.

    python3 smtp_sink.py DIR
"""

import asyncio
import email
import email.policy
import json
import os
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(self.folder, "%03d.json" % self.count)
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        parts = [
            {
                "content_type": part.get_content_type(),
                "filename": part.get_filename(),
                "text": part.get_content(),
            }
            for part in message.walk()
            if not part.is_multipart()
        ]
        mail = {
            "from": envelope.mail_from,
            "to": list(envelope.rcpt_tos),
            "subject": str(message["Subject"]),
            "headers": {k: str(v) for k, v in message.items()},
            "parts": parts,
        }
        # Written whole, then renamed: a test polling the folder never reads half a message.
        with open(path + ".part", "w", encoding="utf-8") as f:
            json.dump(mail, f)
        os.rename(path + ".part", path)
        return "250 OK"


async def main(folder):
    loop = asyncio.get_running_loop()
    sink = Sink(folder)
    server = await loop.create_server(lambda: SMTP(sink, hostname="sink.test"), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
