//! Synthetic benign `setup.py` files, for training only (never evaluated).
//!
//! Most registry payloads sit in a `setup.py` written from the Python Packaging tutorial's
//! template, while this machine has only a few dozen benign `setup.py` files. Without a
//! counterweight the model learns the template itself ("setup.py = malicious") instead of the
//! payload. These files recombine the same boilerplate (imports, README/requirements reading,
//! VERSION/DESCRIPTION constants, setup() keyword arguments, classifiers, entry points) with
//! random names and values, so that only what a payload adds can separate the classes. A
//! deterministic generator: the same seed gives the same files.

pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.below(v.len())]
    }
}

pub(crate) const SYL: &[&str] = &[
    "py", "data", "net", "flow", "kit", "lib", "tool", "core", "json", "http", "auth", "log", "graph", "cli", "db",
    "sql", "cache", "async", "form", "text", "geo", "img", "math", "stat", "web", "api", "conf", "task", "queue",
    "time", "file", "path", "color", "term", "test", "mock", "schema", "parse", "serial", "crypto", "hash", "zip",
];
pub(crate) const WORDS: &[&str] = &[
    "simple",
    "fast",
    "small",
    "library",
    "for",
    "parsing",
    "helpers",
    "utilities",
    "client",
    "toolkit",
    "python",
    "the",
    "a",
    "and",
    "with",
    "support",
    "modern",
    "data",
    "web",
    "command",
    "line",
    "interface",
    "tools",
    "easy",
    "access",
    "to",
    "wrapper",
    "around",
    "framework",
    "plugin",
    "extension",
    "async",
    "typed",
    "configuration",
];
const DEPS: &[&str] = &[
    "requests>=2.25",
    "click>=8.0",
    "numpy",
    "pandas>=1.3",
    "pyyaml",
    "attrs>=21.3",
    "six",
    "typing-extensions",
    "urllib3<3",
    "jinja2>=3",
    "rich",
    "tqdm",
    "python-dateutil",
    "pytz",
    "packaging",
    "colorama",
    "pydantic>=2",
    "sqlalchemy>=1.4",
    "aiohttp",
    "boto3",
    "cryptography>=41",
    "psutil",
    "tomli; python_version < '3.11'",
];
const CLASSIFIERS: &[&str] = &[
    "Programming Language :: Python :: 3",
    "Programming Language :: Python :: 3.8",
    "Programming Language :: Python :: 3.11",
    "License :: OSI Approved :: MIT License",
    "License :: OSI Approved :: Apache Software License",
    "License :: OSI Approved :: BSD License",
    "Operating System :: OS Independent",
    "Operating System :: POSIX :: Linux",
    "Development Status :: 3 - Alpha",
    "Development Status :: 4 - Beta",
    "Development Status :: 5 - Production/Stable",
    "Intended Audience :: Developers",
    "Topic :: Software Development :: Libraries :: Python Modules",
    "Topic :: Utilities",
    "Environment :: Console",
];
const LICENSES: &[&str] = &["MIT", "Apache-2.0", "BSD-3-Clause", "GPLv3", "MPL-2.0"];
const FIRST: &[&str] = &["Alex", "Sam", "Maria", "Wei", "Priya", "Jonas", "Chen", "Fatima", "Lukas", "Ana", "Kenji"];
const LAST: &[&str] = &["Smith", "Garcia", "Müller", "Nakamura", "Okafor", "Rossi", "Kowalski", "Silva", "Novak"];

fn name(r: &mut Rng) -> String {
    let n = 1 + r.below(3);
    let parts: Vec<&str> = (0..n).map(|_| r.pick(SYL)).collect();
    let sep = ["", "-", "_"][r.below(3)];
    let mut s = parts.join(sep);
    if r.chance(20) {
        s.push_str(&(r.below(9) + 1).to_string());
    }
    s
}

fn sentence(r: &mut Rng, n: usize) -> String {
    let mut w: Vec<&str> = (0..n).map(|_| r.pick(WORDS)).collect();
    let first = w[0].to_string();
    let cap = first[..1].to_uppercase() + &first[1..];
    w[0] = &cap;
    w.join(" ")
}

fn q(r: &mut Rng, s: &str) -> String {
    if r.chance(50) {
        format!("\"{s}\"")
    } else {
        format!("'{s}'")
    }
}

/// `n` synthetic benign setup.py files.
pub fn setup_files(n: usize, seed: u64) -> Vec<String> {
    let mut r = Rng(seed);
    (0..n).map(|_| one(&mut r)).collect()
}

fn one(r: &mut Rng) -> String {
    let pkg = name(r);
    let module = pkg.replace('-', "_");
    let version = format!("{}.{}.{}", r.below(4), r.below(20), r.below(12));
    let author = format!("{} {}", r.pick(FIRST), r.pick(LAST));
    let email = format!("{}@example.com", author.split(' ').next().unwrap().to_lowercase());
    let n_words = 3 + r.below(6);
    let desc = sentence(r, n_words);
    let distutils = r.chance(8);
    let tutorial_style = r.chance(35);
    let read_readme = r.chance(65);
    let read_reqs = r.chance(25);
    let use_find = !distutils && r.chance(60);
    let ind = if r.chance(80) { "    " } else { "      " };

    let mut s = String::new();
    if r.chance(20) {
        s.push_str("#!/usr/bin/env python\n");
    }
    if r.chance(15) {
        s.push_str("# -*- coding: utf-8 -*-\n");
    }
    if r.chance(20) {
        s.push_str(&format!("\"\"\"Setup script for {pkg}.\"\"\"\n"));
    }
    let mut imports = Vec::new();
    if read_readme && r.chance(40) {
        imports.push("import os".to_string());
    }
    if read_readme && r.chance(15) {
        imports.push("import codecs".to_string());
    }
    if r.chance(15) {
        imports.push("import sys".to_string());
    }
    if distutils {
        imports.push("from distutils.core import setup".into());
    } else if use_find {
        imports.push(if r.chance(50) {
            "from setuptools import setup, find_packages".into()
        } else {
            "from setuptools import find_packages, setup".into()
        });
    } else if r.chance(15) {
        imports.push("import setuptools".into());
    } else {
        imports.push("from setuptools import setup".into());
    }
    if r.chance(15) {
        imports.push("from pathlib import Path".into());
    }
    for i in &imports {
        s.push_str(i);
        s.push('\n');
    }
    s.push('\n');
    let setup_call = if imports.iter().any(|i| i == "import setuptools") { "setuptools.setup" } else { "setup" };
    let finder = if setup_call == "setuptools.setup" { "setuptools.find_packages" } else { "find_packages" };

    if imports.iter().any(|i| i == "from pathlib import Path") && read_readme {
        s.push_str("this_directory = Path(__file__).parent\nlong_description = (this_directory / \"README.md\").read_text()\n\n");
    } else if read_readme {
        if imports.iter().any(|i| i == "import os") && r.chance(50) {
            s.push_str("here = os.path.abspath(os.path.dirname(__file__))\n\n");
            if imports.iter().any(|i| i == "import codecs") {
                s.push_str("with codecs.open(os.path.join(here, \"README.md\"), encoding=\"utf-8\") as fh:\n    long_description = \"\\n\" + fh.read()\n\n");
            } else {
                s.push_str("with open(os.path.join(here, \"README.md\"), encoding=\"utf-8\") as f:\n    long_description = f.read()\n\n");
            }
        } else {
            let file = ["README.md", "README.rst", "README.txt"][r.below(3)];
            let var = ["fh", "f", "readme_file", "readme"][r.below(4)];
            s.push_str(&format!(
                "with open({}, \"r\", encoding=\"utf-8\") as {var}:\n    long_description = {var}.read()\n\n",
                q(r, file)
            ));
        }
    }
    if read_reqs {
        s.push_str("with open('requirements.txt') as f:\n    requirements = f.read().splitlines()\n\n");
    }
    if tutorial_style {
        s.push_str(&format!("VERSION = {}\n", q(r, &version)));
        s.push_str(&format!("DESCRIPTION = {}\n", q(r, &desc)));
        if !read_readme {
            let n_words = 6 + r.below(8);
            let ld = sentence(r, n_words);
            s.push_str(&format!("LONG_DESCRIPTION = {}\n", q(r, &ld)));
        }
        s.push_str("\n# Setting up\n");
    }

    let mut kw: Vec<String> = Vec::new();
    kw.push(format!("name={}", q(r, &pkg)));
    kw.push(if tutorial_style { "version=VERSION".into() } else { format!("version={}", q(r, &version)) });
    if r.chance(80) {
        kw.push(format!("author={}", q(r, &author)));
    }
    if r.chance(60) {
        kw.push(format!("author_email={}", q(r, &email)));
    }
    kw.push(if tutorial_style { "description=DESCRIPTION".into() } else { format!("description={}", q(r, &desc)) });
    if read_readme {
        kw.push("long_description=long_description".into());
        if r.chance(70) {
            kw.push(format!("long_description_content_type={}", q(r, "text/markdown")));
        }
    } else if tutorial_style {
        kw.push("long_description=LONG_DESCRIPTION".into());
    }
    if r.chance(60) {
        let host = ["github.com", "gitlab.com", "example.com"][r.below(3)];
        kw.push(format!(
            "url={}",
            q(r, &format!("https://{host}/{}/{pkg}", author.split(' ').nth(1).unwrap().to_lowercase()))
        ));
    }
    if use_find {
        if r.chance(50) {
            kw.push(format!("packages={finder}()"));
        } else {
            kw.push(format!("packages={finder}(exclude=[\"tests\", \"tests.*\"])"));
        }
    } else if r.chance(70) {
        kw.push(format!("packages=[{}]", q(r, &module)));
    } else {
        kw.push(format!("py_modules=[{}]", q(r, &module)));
    }
    if read_reqs {
        kw.push("install_requires=requirements".into());
    } else if !distutils && r.chance(75) {
        let k = r.below(4);
        let deps: Vec<String> = (0..k)
            .map(|_| {
                let d = r.pick(DEPS);
                q(r, d)
            })
            .collect();
        kw.push(format!("install_requires=[{}]", deps.join(", ")));
    }
    if r.chance(45) {
        let k = 1 + r.below(6);
        let mut cl: Vec<&str> = (0..k).map(|_| r.pick(CLASSIFIERS)).collect();
        cl.sort();
        cl.dedup();
        let items: Vec<String> = cl.iter().map(|c| format!("{ind}{ind}{},", q(r, c))).collect();
        kw.push(format!("classifiers=[\n{}\n{ind}]", items.join("\n")));
    }
    if r.chance(35) {
        let req = format!(">=3.{}", 6 + r.below(6));
        kw.push(format!("python_requires={}", q(r, &req)));
    }
    if r.chance(35) {
        let l = r.pick(LICENSES);
        kw.push(format!("license={}", q(r, l)));
    }
    if r.chance(25) {
        let words: Vec<&str> = (0..1 + r.below(4)).map(|_| r.pick(WORDS)).collect();
        kw.push(format!("keywords={}", q(r, &words.join(" "))));
    }
    if !distutils && r.chance(30) {
        kw.push(format!("entry_points={{\n{ind}{ind}\"console_scripts\": [\n{ind}{ind}{ind}\"{pkg}={module}.cli:main\",\n{ind}{ind}],\n{ind}}}"));
    }
    if !distutils && r.chance(20) {
        kw.push("include_package_data=True".into());
    }
    if !distutils && r.chance(15) {
        kw.push("zip_safe=False".into());
    }
    if !distutils && r.chance(15) {
        kw.push(format!("extras_require={{\"dev\": [{}, {}]}}", q(r, "pytest"), q(r, "flake8")));
    }
    let trailing = if r.chance(70) { "," } else { "" };
    let body: Vec<String> = kw.iter().map(|k| format!("{ind}{k}")).collect();
    let call = format!("{setup_call}(\n{}{trailing}\n)\n", body.join(",\n"));
    if r.chance(12) {
        s.push_str("if __name__ == \"__main__\":\n");
        for line in call.lines() {
            s.push_str("    ");
            s.push_str(line);
            s.push('\n');
        }
    } else {
        s.push_str(&call);
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn deterministic_and_varied() {
        let a = super::setup_files(50, 7);
        assert_eq!(a, super::setup_files(50, 7));
        let distinct: std::collections::BTreeSet<&String> = a.iter().collect();
        assert_eq!(distinct.len(), 50);
        assert!(a.iter().all(|s| s.contains("setup(") || s.contains("setuptools.setup(")));
    }
}
