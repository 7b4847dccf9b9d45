from .app import main

if __name__ == "__main__":  # guarded: hashing worker processes import this module too
    main()
