//! Helpers shared by the binary's integration tests.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

/// Serves each (URL path, body) over plain HTTP on loopback, and 404 elsewhere, for as long
/// as the test runs; returns `http://127.0.0.1:PORT`.
pub fn serve_files(files: Vec<(String, Vec<u8>)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("");
            let (status, body): (&str, &[u8]) = match files.iter().find(|(p, _)| p == path) {
                Some((_, body)) => ("200 OK", body),
                None => ("404 Not Found", b"not found\n"),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(body);
        }
    });
    format!("http://{addr}")
}
